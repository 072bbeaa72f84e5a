"""Audit services on private copies of every catalogue topic and a private database, and helpers to drive them."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from confluent_kafka import Producer

from aios.kafka.clients import kafka_config
from aios.kafka.scratch import ScratchTopics
from aios.kafka.serde import Codecs
from aios.kafka.topics import load_catalogue
from aios.settings import ConnectionSettings
from tests.support.database import call_database
from tests.support.http_target import free_port
from tests.support.services import ServiceProcess, stack_env

DEADLETTER = "aios.deadletter"


@dataclass
class AuditHarness:
    connection: ConnectionSettings
    dsn: str
    topics: dict[str, str]
    """Catalogue topic → the test's copy of it."""
    codecs: Codecs
    log_dir: Path
    services: list[tuple[ServiceProcess, str]] = field(default_factory=list)

    @property
    def signed_heads(self) -> Path:
        """Where this module's audit services sign their chain heads (`aios audit verify --signed-heads`)."""
        return self.log_dir / "signed-heads.jsonl"

    def start(self, group: str) -> str:
        """An audit service in `group`; its API's base URL once it is ready."""
        port = free_port()
        env = {
            **stack_env(self.connection, self.dsn),
            "AIOS_AUDIT_TOPICS": json.dumps(list(self.topics.values())),
            "AIOS_AUDIT_CARRIES": json.dumps({copy: name for name, copy in self.topics.items()}),
            "AIOS_AUDIT_GROUP_ID": group,
            "AIOS_AUDIT_PORT": str(port),
            "AIOS_LOOP_DEADLETTER_TOPIC": self.topics[DEADLETTER],
            "AIOS_AUDIT_SIGNED_HEADS_PATH": str(self.signed_heads),
            "AIOS_AUDIT_SIGN_HEADS_INTERVAL_S": "0.5",
        }
        service = ServiceProcess("services.audit", env, self.log_dir / f"audit-{port}.log")
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert service.running(), service.log()[-3000:]
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    self.services.append((service, url))
                    return url
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(service.log()[-3000:])

    def produce(self, records: dict[str, dict[str, Any]], timestamp_ms: int | None = None) -> None:
        """Each value to the copy of its topic (`aios.actions.executed#1` → the executed copy)."""
        producer = Producer({**kafka_config(self.connection.kafka_bootstrap), "acks": "all"})
        for name, value in records.items():
            topic = self.topics[name.split("#")[0]]
            key = f"{value['tenant_id']}:{value['event_id']}"
            encoded = self.codecs.encode(topic, value)
            producer.produce(topic, key=key, value=encoded, timestamp=timestamp_ms or 0)  # 0: the producer's clock
        assert producer.flush(30) == 0

    def query(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        async def run(pool: Any) -> list[dict[str, Any]]:
            return [dict(row) for row in await pool.fetch(sql, *args)]

        return call_database(self.dsn, run)

    def wait_rows(self, where: str, count: int, *args: Any, timeout_s: float = 60) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            rows = self.query(f"SELECT * FROM audit_log WHERE {where} ORDER BY chain_seq", *args)  # noqa: S608
            if len(rows) >= count:
                return rows
            time.sleep(0.2)
        raise AssertionError(
            f"{len(rows)} of {count} audit rows where {where} {args}: {self.services[0][0].log()[-3000:]}"
        )


@pytest.fixture(scope="module")
def audit(
    connection: ConnectionSettings, module_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AuditHarness]:
    """One audit service on copies of every catalogue topic; every service started is SIGTERMed at the end."""
    with ScratchTopics(connection.kafka_bootstrap, connection.schema_registry_url) as scratch:
        topics = {name: scratch.make(name, 2) for name in load_catalogue().names()}
        codecs = Codecs(connection.schema_registry_url, carries={copy: name for name, copy in topics.items()})
        harness = AuditHarness(connection, module_database, topics, codecs, tmp_path_factory.mktemp("audit"))
        harness.start(f"audit-{uuid.uuid4().hex[:8]}")
        yield harness
        for service, _ in harness.services:
            assert service.stop() == 0, service.log()[-3000:]
            assert "audit stopped" in service.log()
