"""The decide service as a real process on private topics, and `aios.events.enriched` values to feed it."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from confluent_kafka import Message

from aios.bench.events import SAMPLE_TRACEPARENT
from aios.db.pool import open_pool
from aios.decide.app import delete_internal_topics
from aios.kafka.producer import ReliableProducer
from aios.kafka.serde import Codecs
from aios.policy.loading import load_policy
from aios.policy.store import PolicyStore
from aios.settings import ConnectionSettings
from aios.tenants.store import TenantStore
from tests.support.kafka_io import read_topic, value_of

TopicFactory = Callable[..., str]


def enriched_value(
    tenant_id: str,
    text: str = "What is my balance?",
    label: str = "balance",
    confidence: float = 0.93,
    *,
    oos: bool = False,
    attributes: dict[str, str] | None = None,
    pii_found: list[str] | None = None,
    draft: str | None = "Your balance is under Accounts > Overview.",
    event_type: str = "support.ticket",
) -> dict[str, Any]:
    """A valid `aios.EventEnriched` value, as retrieve-generate writes it."""
    return {
        "event_id": str(uuid.uuid4()),
        "tenant_id": tenant_id,
        "occurred_at": datetime.now(UTC).replace(microsecond=0),
        "type": event_type,
        "text": text,
        "attributes": dict(attributes or {}),
        "classification": {
            "label": label,
            "confidence": confidence,
            "oos": oos,
            "top_k": [{"label": label, "confidence": confidence}, {"label": "transfer", "confidence": 0.02}],
            "model_name": "intents",
            "model_version": 1,
            "model_alias": "production",
            "backend": "torch",
            "inference_ms": 3.5,
        },
        "passages": [
            {
                "chunk_id": "kb-1#0",
                "document_id": "kb-1",
                "title": "Checking your balance",
                "score": 0.82,
                "snippet": "Your balance is shown under Accounts > Overview.",
            }
        ],
        "draft": None
        if draft is None
        else {
            "text": draft,
            "citations": [{"document_id": "kb-1", "chunk_id": "kb-1#0"}],
            "generator": "extractive",
            "generator_version": "1",
        },
        "pii_found": list(pii_found or []),
        "timings_ms": {"retrieve": 4.0},
        "trace": {"traceparent": SAMPLE_TRACEPARENT, "tracestate": None},
    }


@dataclass(frozen=True)
class DecideTopics:
    enriched: str
    completed: str
    decisions: str
    review_requested: str
    deadletter: str

    @classmethod
    def make(cls, topics: TopicFactory) -> DecideTopics:
        return cls(
            enriched=topics("aios.events.enriched", partitions=3),
            completed=topics("aios.review.completed", partitions=3),
            decisions=topics("aios.decisions", partitions=3),
            review_requested=topics("aios.review.requested", partitions=3),
            deadletter=topics("aios.deadletter", partitions=1),
        )

    def carries(self) -> dict[str, str]:
        return {
            self.enriched: "aios.events.enriched",
            self.completed: "aios.review.completed",
            self.decisions: "aios.decisions",
            self.review_requested: "aios.review.requested",
            self.deadletter: "aios.deadletter",
        }


class DecideProcess:
    """`python -m services.decide` on private topics and app id; its log goes to a file."""

    def __init__(self, connection: ConnectionSettings, topics: DecideTopics, dsn: str, log_dir: Path) -> None:
        self.app_id = f"test-decide-{uuid.uuid4().hex[:8]}"
        self.connection = connection
        self.env = {
            **os.environ,
            "AIOS_KAFKA_BOOTSTRAP": connection.kafka_bootstrap,
            "AIOS_SCHEMA_REGISTRY_URL": connection.schema_registry_url,
            "AIOS_POSTGRES_DSN": dsn,
            "AIOS_DECIDE_APP_ID": self.app_id,
            "AIOS_DECIDE_ENRICHED_TOPIC": topics.enriched,
            "AIOS_DECIDE_COMPLETED_TOPIC": topics.completed,
            "AIOS_DECIDE_DECISIONS_TOPIC": topics.decisions,
            "AIOS_DECIDE_REVIEW_REQUESTED_TOPIC": topics.review_requested,
            "AIOS_DECIDE_DEADLETTER_TOPIC": topics.deadletter,
            "AIOS_DECIDE_PARTITIONS": "3",
            "AIOS_DECIDE_POLICY_POLL_INTERVAL_S": "0.5",
            "AIOS_DECIDE_DATA_DIR": str(log_dir / "faust"),
            "AIOS_DECIDE_METRICS_PORT": "0",
        }
        self.log = log_dir / f"{self.app_id}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start and wait until Faust says the worker is ready (partitions assigned, tables restored)."""
        seen = self.log.stat().st_size if self.log.exists() else 0  # bytes of earlier runs
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "services.decide"], env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 120
        while b"Worker ready" not in self.log.read_bytes()[seen:]:
            assert self.process.poll() is None, self.tail()
            assert time.monotonic() < deadline, self.tail()
            time.sleep(0.3)

    def stop(self) -> int:
        """SIGTERM: Faust stops the agents, produces what they sent, commits, exits."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=60)
        self.process = None
        return code

    def tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:]

    def delete_internal_topics(self) -> None:
        """The by-tenant topic and the tables' changelogs Faust created for this app id."""
        delete_internal_topics(self.connection.kafka_bootstrap, self.app_id)


def create_tenant_with_policy(dsn: str, name: str, policy_text: str | None) -> str:
    """A tenant in the database at `dsn`, with `policy_text` (its `tenant:` replaced) applied."""

    async def work() -> str:
        async with open_pool(dsn) as pool:
            tenant_id = (await TenantStore(pool).create_tenant(name)).tenant_id
            if policy_text is not None:
                await PolicyStore(pool).apply(tenant_id, load_policy(policy_text.replace("{tenant}", name)))
            return tenant_id

    return asyncio.run(work())


def apply_policy(dsn: str, tenant_id: str, policy_text: str) -> str:
    async def work() -> str:
        async with open_pool(dsn) as pool:
            loaded = load_policy(policy_text)
            await PolicyStore(pool).apply(tenant_id, loaded)
            return loaded.version

    return asyncio.run(work())


class TopicIO:
    """Avro records in and out of the private topics, with the catalogue schemas they carry."""

    def __init__(self, connection: ConnectionSettings, topics: DecideTopics) -> None:
        self.bootstrap = connection.kafka_bootstrap
        self.codecs = Codecs(connection.schema_registry_url, carries=topics.carries())

    def produce(self, topic: str, values: list[dict[str, Any]]) -> None:
        """With the producer every AIOS service uses (acks=all, idempotent, lz4-compressed batches)."""
        producer = ReliableProducer(self.bootstrap, client_id="test-topic-io")
        for value in values:
            key = f"{value['tenant_id']}:{value['event_id']}"
            producer.produce(topic, self.codecs.encode(topic, value), key=key)
        producer.flush(60)

    def read(
        self, topic: str, until: Callable[[list[dict[str, Any]]], bool], timeout_s: float = 90
    ) -> list[dict[str, Any]]:
        """Every decoded record of `topic`, read until `until(values)` holds or time runs out."""

        def decoded(messages: list[Message]) -> list[dict[str, Any]]:
            return [self.codecs.decode(topic, value_of(m)) for m in messages]

        return decoded(read_topic(self.bootstrap, topic, lambda ms: until(decoded(ms)), timeout_s))
