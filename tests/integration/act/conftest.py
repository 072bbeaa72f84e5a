"""One act service per test module, on private topics and a private database; helpers to drive it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Message

from aios.connectors.config import ConnectorConfigs
from aios.kafka.scratch import ScratchTopics
from aios.kafka.serde import Codecs
from aios.keys.signing import RecordSigner
from aios.settings import ConnectionSettings
from tests.support.database import call_database
from tests.support.kafka_io import produce_raw, read_topic, value_of
from tests.support.services import ServiceProcess, stack_env

DECISIONS, EXECUTED, DEADLETTER = "aios.decisions", "aios.actions.executed", "aios.deadletter"


@dataclass
class ActHarness:
    connection: ConnectionSettings
    dsn: str
    decisions: str
    executed: str
    deadletter: str
    codecs: Codecs
    service: ServiceProcess | None = None

    def start(self, log_path: Path, group: str, **settings: str) -> ServiceProcess:
        env = {
            **stack_env(self.connection, self.dsn),
            "AIOS_ACT_INPUT_TOPIC": self.decisions,
            "AIOS_ACT_OUTPUT_TOPIC": self.executed,
            "AIOS_ACT_GROUP_ID": group,
            "AIOS_ACT_METRICS_PORT": "0",
            "AIOS_ACT_POLL_INTERVAL_S": "0.1",
            "AIOS_ACT_CONFIG_CACHE_S": "0",
            "AIOS_ACT_DRAIN_S": "3",
            "AIOS_LOOP_DEADLETTER_TOPIC": self.deadletter,
            **{f"AIOS_ACT_{key.upper()}": value for key, value in settings.items()},
        }
        self.service = ServiceProcess("services.act", env, log_path)
        return self.service

    def configure(self, tenant_id: str, connector: str, config: dict[str, Any]) -> None:
        call_database(self.dsn, lambda pool: ConnectorConfigs(pool).set(tenant_id, connector, config))

    def send(self, *decisions: dict[str, Any], signed: bool = True) -> None:
        """Decisions as decide would write them: signed with its key (unless `signed` is False: a forgery)."""
        signer = RecordSigner("decide", DECISIONS)
        produce_raw(
            self.connection.kafka_bootstrap,
            self.decisions,
            [
                (
                    f"{d['tenant_id']}:{d['event_id']}".encode(),
                    self.codecs.encode(self.decisions, signer.signed(d) if signed else d),
                )
                for d in decisions
            ],
        )

    def records(
        self, topic: str, events: set[str], until: Callable[[list[dict[str, Any]]], bool], timeout_s: float = 60
    ) -> list[dict[str, Any]]:
        """Decoded records of `topic` about `events`, read until `until(records)` holds."""
        found: list[dict[str, Any]] = []

        def done(messages: list[Message]) -> bool:
            found[:] = [
                v for v in (self.codecs.decode(topic, value_of(m)) for m in messages) if v["event_id"] in events
            ]
            return until(found)

        read_topic(self.connection.kafka_bootstrap, topic, done, timeout_s=timeout_s)
        if not until(found):
            log = self.service.log()[-4000:] if self.service else ""
            raise AssertionError(f"timed out: {len(found)} record(s) on {topic}: {found}\n{log}")
        return found

    def results(self, events: set[str], count: int, timeout_s: float = 60) -> list[dict[str, Any]]:
        return self.records(self.executed, events, lambda found: len(found) >= count, timeout_s)

    def inbox(self, action_id: str) -> dict[str, Any] | None:
        return call_database(
            self.dsn, lambda pool: pool.fetchrow("SELECT * FROM act_actions WHERE action_id = $1", action_id)
        )

    def inbox_status(self, action_id: str) -> str:
        """The status in the action's inbox row, which the test expects act to have written."""
        row = self.inbox(action_id)
        assert row is not None, f"no inbox row of {action_id}"
        return row["status"]

    def wait_inbox(
        self, action_id: str, check: Callable[[dict[str, Any]], bool], timeout_s: float = 30
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            row = self.inbox(action_id)
            if row is not None and check(dict(row)):
                return dict(row)
            time.sleep(0.1)
        raise AssertionError(f"inbox row of {action_id}: {self.inbox(action_id)}")


def make_harness(connection: ConnectionSettings, dsn: str, make_topic: Callable[[str, int], str]) -> ActHarness:
    names = make_topic(DECISIONS, 3), make_topic(EXECUTED, 3), make_topic(DEADLETTER, 1)
    codecs = Codecs(
        connection.schema_registry_url, carries=dict(zip(names, (DECISIONS, EXECUTED, DEADLETTER), strict=True))
    )
    return ActHarness(connection, dsn, *names, codecs)


@pytest.fixture(scope="module")
def act(
    connection: ConnectionSettings, module_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ActHarness]:
    """The module's act service: 8 slots, 2 per tenant; stopped with SIGTERM at the end (must exit 0)."""
    with ScratchTopics(connection.kafka_bootstrap, connection.schema_registry_url) as scratch:
        harness = make_harness(connection, module_database, scratch.make)
        service = harness.start(
            tmp_path_factory.mktemp("act") / "act.log",
            f"act-{uuid.uuid4().hex[:8]}",
            concurrency="8",
            tenant_concurrency="2",
        )
        yield harness
        status = service.stop()
        assert status == 0, service.log()[-4000:]
        assert "act stopped" in service.log()
