"""Counters with known label values are exported at 0 from start-up: a panel shows 0, never "No data"."""

from __future__ import annotations

import json
import uuid
from typing import Any

from prometheus_client import REGISTRY

from aios.kafka.deadletter import ErrorKind, consumer_metrics_at_zero
from aios.observability import metrics
from aios.paths import schemas_dir


def enum_symbols(schema: str, name: str) -> list[str]:
    def walk(node: Any) -> list[str]:
        if isinstance(node, dict):
            if node.get("type") == "enum" and node.get("name") == name:
                return list(node["symbols"])
            return [s for value in node.values() for s in walk(value)]
        if isinstance(node, list):
            return [s for value in node for s in walk(value)]
        return []

    return walk(json.loads((schemas_dir() / f"{schema}.avsc").read_text()))


def test_a_consumer_exports_zero_dead_letters_of_every_kind_for_each_topic_and_zero_retries() -> None:
    service = f"unit-{uuid.uuid4().hex[:6]}"
    consumer_metrics_at_zero(service, ["a", "b"])
    for topic in ("a", "b"):
        for kind in ErrorKind:
            labels = {"service": service, "topic": topic, "error_kind": kind.value}
            assert REGISTRY.get_sample_value("aios_dead_letters_total", labels) == 0
    assert REGISTRY.get_sample_value("aios_handler_retries_total", {"service": service}) == 0


def test_every_combination_of_known_values_starts_at_zero_and_counts_from_there() -> None:
    service = f"unit-{uuid.uuid4().hex[:6]}"
    metrics.start_at_zero(metrics.ACT_ACTIONS, service, ["webhook", "log"], metrics.ACTION_STATUSES)
    samples = {
        (s.labels["connector"], s.labels["status"]): s.value
        for family in REGISTRY.collect()
        if family.name == "aios_act_actions"
        for s in family.samples
        if s.name.endswith("_total") and s.labels["service"] == service
    }
    assert samples == {(c, s): 0 for c in ("webhook", "log") for s in metrics.ACTION_STATUSES}
    metrics.ACT_ACTIONS.labels(service, "log", "succeeded").inc()
    assert (
        REGISTRY.get_sample_value(
            "aios_act_actions_total", {"service": service, "connector": "log", "status": "succeeded"}
        )
        == 1
    )


def test_the_known_values_are_those_of_the_schemas() -> None:
    """Decisions: the schema's outcomes and REVIEW (counted when decide asks for a person)."""
    assert set(metrics.DECISION_OUTCOMES) == {*enum_symbols("decision", "Outcome"), "REVIEW"}
    assert [s.upper() for s in metrics.ACTION_STATUSES] == enum_symbols("action_executed", "ActionStatus")
