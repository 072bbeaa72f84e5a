"""The RPA client SDK against the live edge: a real 429, and a broker that stops and comes back."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from redis import Redis

from aios.client import AiosClient, AsyncAiosClient, RetryPolicy
from aios.ingest.quotas import LIMITS_KEY
from aios.kafka.serde import Codecs
from aios.kafka.topics import apply_topics, load_catalogue
from aios.settings import ConnectionSettings
from aios.stack.kafka import KafkaCluster
from aios.tenants.store import IssuedKey
from tests.integration.ingest.conftest import IngestProcess
from tests.support.kafka_io import read_topic, value_of
from tests.support.private_stack import private_settings

PATIENT = RetryPolicy(max_attempts=40, base_delay_s=0.2, max_delay_s=1.0)


def test_sync_client_waits_out_a_real_429(ingest_url: str, tenant: IssuedKey, connection: ConnectionSettings) -> None:
    Redis.from_url(connection.redis_url).hset(LIMITS_KEY, tenant.tenant_id, "1,1")
    with AiosClient(ingest_url, tenant.api_key, retry=PATIENT) as client:
        started = time.monotonic()
        ids = [client.submit("support.ticket", f"quota {n}") for n in range(3)]
        elapsed = time.monotonic() - started
    assert len(set(ids)) == 3
    assert elapsed >= 1.5, "two of the three submits had to wait for a token (Retry-After: 1)"


def test_async_client_submits_concurrently(ingest_url: str, tenant: IssuedKey) -> None:
    async def submit_all() -> list[str]:
        async with AsyncAiosClient(ingest_url, tenant.api_key) as client:
            return await asyncio.gather(*(client.submit("support.ticket", f"async {n}") for n in range(20)))

    ids = asyncio.run(submit_all())
    assert len(set(ids)) == 20


@pytest.fixture
def private_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaCluster]:
    """A one-node cluster the test may stop and restart without disturbing the session's stack
    (on ports below Linux's ephemeral range, which client connections may hold)."""
    settings = private_settings(Path(tmp_path_factory.mktemp("stoppable-kafka")), kafka_port=30392)
    cluster = KafkaCluster(settings, brokers=1)
    try:
        cluster.start()
        apply_topics(cluster.client_config(), [load_catalogue().get("aios.events.received")])
        yield cluster
    finally:
        cluster.stop()


def test_stopped_broker_gets_503_then_the_sdk_succeeds_after_restart_with_one_event_id(
    private_kafka: KafkaCluster, connection: ConnectionSettings, tenant: IssuedKey, tmp_path: Path
) -> None:
    edge_connection = connection.model_copy(update={"kafka_bootstrap": private_kafka.bootstrap})
    edge = IngestProcess(edge_connection, tmp_path, ack_timeout_s="1")
    edge.start()
    try:
        private_kafka.stop()
        body = {"type": "support.ticket", "text": "while the broker is down"}
        refused = httpx.post(f"{edge.url}/v1/events", json=body, headers={"Authorization": f"Bearer {tenant.api_key}"})
        assert refused.status_code == 503
        assert refused.headers["Retry-After"] == "1"

        result: dict[str, str] = {}

        def submit() -> None:
            with AiosClient(edge.url, tenant.api_key, retry=PATIENT) as client:
                result["event_id"] = client.submit("support.ticket", "submitted during the outage")

        worker = threading.Thread(target=submit)
        worker.start()
        time.sleep(3)
        assert worker.is_alive(), "the SDK must still be retrying while the broker is down"
        private_kafka.start()
        worker.join(timeout=120)
        assert "event_id" in result
    finally:
        edge.stop()

    codecs = Codecs(connection.schema_registry_url)
    messages = read_topic(private_kafka.bootstrap, "aios.events.received", lambda r: False, timeout_s=8)
    values = [codecs.decode("aios.events.received", value_of(m)) for m in messages]
    outage = [v for v in values if v["text"] == "submitted during the outage"]
    assert outage, "the accepted event is in Kafka"
    assert {v["event_id"] for v in outage} == {result["event_id"]}, json.dumps([v["event_id"] for v in outage])
    assert len({v["idempotency_key"] for v in outage}) == 1
