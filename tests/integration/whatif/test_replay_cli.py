"""`aios replay` over traffic the real decide service decided, on private topics and a scratch database."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aios.settings import ConnectionSettings
from tests.support.cli import aios
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


@pytest.fixture
def decided(
    connection: ConnectionSettings, migrated_database: str, topics: TopicFactory, tmp_path: Path
) -> Iterator[tuple[DecideTopics, str, list[dict[str, Any]]]]:
    """A tenant whose events the decide service decided under the 0.8 version."""
    private = DecideTopics.make(topics)
    tenant = f"replay-{os.urandom(3).hex()}"
    tenant_id = create_tenant_with_policy(migrated_database, tenant, POLICY.format(tenant="{tenant}", routine_from=0.8))
    process = DecideProcess(connection, private, migrated_database, tmp_path)
    process.start()
    try:
        io = TopicIO(connection, private)
        events = [
            enriched_value(tenant_id, label=label, confidence=confidence)
            for label, confidence in [
                ("balance", 0.3), ("balance", 0.55), ("balance", 0.65), ("balance", 0.7), ("balance", 0.85),
                ("balance", 0.95), ("transfer", 0.7), ("transfer", 0.9),
            ]
        ]  # fmt: skip
        io.produce(private.enriched, events)
        ids = {e["event_id"] for e in events}
        decisions = io.read(private.decisions, lambda vs: sum(v["event_id"] in ids for v in vs) >= 3)
        reviews = io.read(private.review_requested, lambda vs: sum(v["event_id"] in ids for v in vs) >= 5)
        assert len({v["event_id"] for v in decisions + reviews} & ids) == len(ids), process.tail()
        yield private, tenant, events
    finally:
        process.stop()
        process.delete_internal_topics()


def _replay(
    connection: ConnectionSettings, dsn: str, private: DecideTopics, tenant: str, policy: Path, *extra: str
) -> dict[str, Any]:
    env = {
        "AIOS_KAFKA_BOOTSTRAP": connection.kafka_bootstrap,
        "AIOS_SCHEMA_REGISTRY_URL": connection.schema_registry_url,
        "AIOS_POSTGRES_DSN": dsn,
        "AIOS_REPLAY_ENRICHED_TOPIC": private.enriched,
        "AIOS_REPLAY_DECISIONS_TOPIC": private.decisions,
        "AIOS_REPLAY_REVIEW_REQUESTED_TOPIC": private.review_requested,
        "AIOS_REPLAY_REVIEW_COMPLETED_TOPIC": private.completed,
    }
    result = aios("replay", "--tenant", tenant, "--since", "15m", "--policy", str(policy), "--json", *extra, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_candidate_policy_that_differs_in_one_rule_changes_exactly_the_events_that_rule_covers(
    connection: ConnectionSettings,
    migrated_database: str,
    decided: tuple[DecideTopics, str, list[dict[str, Any]]],
    tmp_path: Path,
) -> None:
    private, tenant, events = decided
    same, lower = tmp_path / "same.yaml", tmp_path / "lower.yaml"
    same.write_text(POLICY.format(tenant=tenant, routine_from=0.8))
    lower.write_text(POLICY.format(tenant=tenant, routine_from=0.6))

    unchanged = _replay(connection, migrated_database, private, tenant, same)
    assert unchanged["events"] == len(events) and unchanged["undecided"] == 0
    assert unchanged["changed"] == [] and unchanged["before"] == unchanged["after"]

    page = tmp_path / "report.html"
    report = _replay(connection, migrated_database, private, tenant, lower, "--out", str(page))
    expected = {
        e["event_id"]
        for e in events
        if e["classification"]["label"] == "balance" and 0.6 <= e["classification"]["confidence"] < 0.8
    }
    assert {c["event_id"] for c in report["changed"]} == expected
    for change in report["changed"]:
        assert (change["before"]["outcome"], change["before"]["rule"]) == ("REVIEW", "default")
        assert (change["after"]["outcome"], change["after"]["rule"]) == ("AUTO", "routine")
    assert report["before"]["auto"] == 2 and report["after"]["auto"] == 4
    assert report["before"]["reject"] == report["after"]["reject"] == 1
    text = page.read_text()
    assert "<svg" in text and all(event_id in text for event_id in expected)
