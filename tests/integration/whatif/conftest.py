"""A tenant whose events a real decide service decided, on private topics and a scratch database."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from aios.settings import ConnectionSettings
from tests.support.decide import (
    DecideProcess,
    DecideTopics,
    TopicFactory,
    TopicIO,
    create_tenant_with_policy,
    enriched_value,
)

POLICY = """\
tenant: "{tenant}"
rules:
  - name: unsure
    when: {{confidence: {{lt: 0.5}}}}
    reject: {{reason: too unsure}}
  - name: routine
    when: {{intent: balance, confidence: {{gte: {routine_from}}}}}
    auto:
      reason: routine
      actions: [{{type: log.record, params: {{message: "{{label}}"}}}}]
default:
  review: {{reason: nobody knows, sla: 1h}}
"""
"""Two versions differ in one rule: `routine` from 0.8 confidence, or from 0.6."""


MIX = [
    ("balance", 0.3), ("balance", 0.55), ("balance", 0.65), ("balance", 0.7), ("balance", 0.85),
    ("balance", 0.95), ("transfer", 0.7), ("transfer", 0.9),
]  # fmt: skip
"""Under the 0.8 version: one rejection, two automatic answers, five reviews; 0.6 automates two more."""


@dataclass
class Decided:
    private: DecideTopics
    tenant: str
    tenant_id: str
    io: TopicIO
    process: DecideProcess
    events: list[dict[str, Any]] = field(default_factory=list)

    def send(self) -> list[dict[str, Any]]:
        """The mix once more, returned once decide decided every event of it."""
        events = [enriched_value(self.tenant_id, label=label, confidence=confidence) for label, confidence in MIX]
        self.io.produce(self.private.enriched, events)
        ids = {e["event_id"] for e in events}
        decisions = self.io.read(self.private.decisions, lambda vs: sum(v["event_id"] in ids for v in vs) >= 3)
        reviews = self.io.read(self.private.review_requested, lambda vs: sum(v["event_id"] in ids for v in vs) >= 5)
        assert len({v["event_id"] for v in decisions + reviews} & ids) == len(ids), self.process.tail()
        self.events += events
        return events


@pytest.fixture
def decided(
    connection: ConnectionSettings, migrated_database: str, topics: TopicFactory, tmp_path: Path
) -> Iterator[Decided]:
    """A tenant whose events (the mix, once) the decide service decided under the 0.8 version."""
    private = DecideTopics.make(topics)
    tenant = f"replay-{os.urandom(3).hex()}"
    tenant_id = create_tenant_with_policy(migrated_database, tenant, POLICY.format(tenant="{tenant}", routine_from=0.8))
    process = DecideProcess(connection, private, migrated_database, tmp_path)
    process.start()
    try:
        found = Decided(private, tenant, tenant_id, TopicIO(connection, private), process)
        found.send()
        yield found
    finally:
        process.stop()
        process.delete_internal_topics()


def replay_env(connection: ConnectionSettings, dsn: str, private: DecideTopics) -> dict[str, str]:
    """Where `aios replay` and `aios policy rollout` find the stack and the recorded traffic."""
    return {
        "AIOS_KAFKA_BOOTSTRAP": connection.kafka_bootstrap,
        "AIOS_SCHEMA_REGISTRY_URL": connection.schema_registry_url,
        "AIOS_POSTGRES_DSN": dsn,
        "AIOS_REPLAY_ENRICHED_TOPIC": private.enriched,
        "AIOS_REPLAY_DECISIONS_TOPIC": private.decisions,
        "AIOS_REPLAY_REVIEW_REQUESTED_TOPIC": private.review_requested,
        "AIOS_REPLAY_REVIEW_COMPLETED_TOPIC": private.completed,
    }
