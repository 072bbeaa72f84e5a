"""Ingest while Redis or PostgreSQL is down: 503 with Retry-After, nothing accepted; the SDK gets in after.

Ingest runs on a private PostgreSQL and Redis that the tests stop and start (Kafka is the session's,
on a private topic). Redis holds the quotas and idempotency keys every submit needs; PostgreSQL
holds API keys, which each ingest worker caches for `AIOS_INGEST_AUTH_CACHE_S`, so a key it saw recently keeps
working through a PostgreSQL outage and an unseen one is refused for now.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from aios.client import AiosClient
from aios.db.scratch import scratch_database
from aios.kafka.serde import Codecs
from aios.settings import ConnectionSettings
from aios.tenants.store import IssuedKey, TenantStore
from tests.integration.ingest.conftest import IngestProcess
from tests.support.database import call_database
from tests.support.decide import TopicFactory
from tests.support.kafka_io import read_topic, value_of
from tests.support.private_stack import PrivateStack, private_stack
from tests.support.traffic import PATIENT

pytestmark = pytest.mark.chaos


@pytest.fixture(scope="module")
def stack(connection: ConnectionSettings) -> Iterator[PrivateStack]:
    with private_stack(connection, brokers=0) as stack:
        yield stack


@pytest.fixture
def edge(stack: PrivateStack, topics: TopicFactory, tmp_path: Path) -> Iterator[tuple[IngestProcess, str, str]]:
    """Ingest on the private stack, writing to a private topic; the topic and the database it uses."""
    received = topics("aios.events.received", partitions=1)
    with scratch_database(stack.postgres.dsn, "aios_test") as dsn:
        connection = stack.connection.model_copy(update={"postgres_dsn": SecretStr(dsn)})
        process = IngestProcess(connection, tmp_path, topic=received, auth_cache_s="60", workers="1")
        process.start(ready="/readyz")
        try:
            yield process, received, dsn
        finally:
            if process.process is not None and process.process.poll() is None:
                process.process.kill()


def tenant(dsn: str, name: str) -> IssuedKey:
    return call_database(dsn, lambda pool: TenantStore(pool).create_tenant(name))


def post(edge: IngestProcess, key: str, text: str) -> httpx.Response:
    return httpx.post(
        f"{edge.url}/v1/events",
        headers={"Authorization": f"Bearer {key}", "Idempotency-Key": text},
        json={"type": "support.ticket", "text": text},
        timeout=30,
    )


def texts_on(connection: ConnectionSettings, topic: str, count: int) -> list[str]:
    codecs = Codecs(connection.schema_registry_url, carries={topic: "aios.events.received"})
    messages = read_topic(connection.kafka_bootstrap, topic, lambda found: len(found) >= count, timeout_s=20)
    return [codecs.decode(topic, value_of(m))["text"] for m in messages]


def test_while_redis_is_down_ingest_answers_503_and_accepts_nothing_then_the_sdk_gets_in(
    stack: PrivateStack, edge: tuple[IngestProcess, str, str]
) -> None:
    process, received, dsn = edge
    sender = tenant(dsn, "redis-outage")
    assert post(process, sender.api_key, "before the outage").status_code == 202

    stack.stop_redis()
    try:
        refused = [post(process, sender.api_key, f"during the outage {n}") for n in range(3)]
        assert {r.status_code for r in refused} == {503}, [r.text for r in refused]
        assert all(r.headers["Retry-After"] == "1" for r in refused)
        assert "nothing was accepted" in refused[0].json()["detail"]
        assert httpx.get(f"{process.url}/readyz", timeout=10).json()["checks"]["redis"] is False

        result: dict[str, str] = {}

        def submit() -> None:
            with AiosClient(process.url, sender.api_key, retry=PATIENT) as client:
                result["event_id"] = client.submit("support.ticket", "sent by the SDK during the outage")

        worker = threading.Thread(target=submit)
        worker.start()
        time.sleep(3)
        assert worker.is_alive(), "the SDK keeps retrying (503 + Retry-After) while Redis is down"
    finally:
        stack.start_redis()
    worker.join(timeout=60)
    assert "event_id" in result

    texts = texts_on(stack.connection, received, 2)
    assert sorted(texts) == ["before the outage", "sent by the SDK during the outage"]


def test_while_postgresql_is_down_keys_seen_recently_still_send_and_unseen_ones_get_503(
    stack: PrivateStack, edge: tuple[IngestProcess, str, str]
) -> None:
    process, received, dsn = edge
    seen, unseen = tenant(dsn, "pg-outage-seen"), tenant(dsn, "pg-outage-unseen")
    assert post(process, seen.api_key, "cached key, before").status_code == 202

    stack.stop_postgres()
    try:
        assert post(process, seen.api_key, "cached key, during").status_code == 202
        refused = post(process, unseen.api_key, "unseen key, during")
        assert refused.status_code == 503, refused.text
        assert refused.headers["Retry-After"] == "1"
    finally:
        stack.start_postgres()
    deadline = time.monotonic() + 60
    while (answer := post(process, unseen.api_key, "unseen key, after")).status_code != 202:
        assert answer.status_code == 503 and time.monotonic() < deadline, answer.text
        time.sleep(1)

    texts = texts_on(stack.connection, received, 3)
    assert sorted(texts) == ["cached key, before", "cached key, during", "unseen key, after"]
