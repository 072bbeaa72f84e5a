"""Planning a decision's actions (the contract with decide) and the records that report them."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import pytest

from aios.act.errors import InvalidDecisionError
from aios.act.plan import DecisionPlan, compensation_id_for, executed_record, plan, record_key
from aios.bench.lineage import decision_value as decision
from aios.policy.actions import action_id
from aios.schemas.records import Compensation, Decision, TraceContext


def planned_from(value: dict[str, Any]) -> DecisionPlan | None:
    """What act plans for a decision as the codec decodes it."""
    return plan(Decision.from_avro(value))


def test_action_ids_follow_the_contract_with_decide() -> None:
    expected = hashlib.sha256(b"e-1:2:webhook.post").hexdigest()[:32]
    assert action_id("e-1", 2, "webhook.post") == expected
    assert len({action_id("e-1", i, t) for i in (0, 1) for t in ("log.record", "webhook.post")}) == 4
    assert compensation_id_for(expected) != expected and len(compensation_id_for(expected)) == 32


def test_a_decision_plans_its_actions_in_order_with_their_compensations() -> None:
    value = decision("t", [("http.create_ticket", {"subject": "x"}, ("http.close_ticket", {})), ("log.record", {})])
    planned = planned_from(value)
    assert planned is not None
    assert [(a.position, a.action_type) for a in planned.actions] == [(0, "http.create_ticket"), (1, "log.record")]
    assert planned.actions[0].compensation == Compensation(type="http.close_ticket", params={})
    assert planned.actions[1].compensation is None
    assert planned.actions[0].action_id == action_id(value["event_id"], 0, "http.create_ticket")


def test_the_carried_action_id_is_authoritative_and_computed_when_missing() -> None:
    value = decision("t", [("log.record", {}), ("log.record", {})])
    value["actions"][0]["action_id"] = "decided-elsewhere"
    value["actions"][1]["action_id"] = ""
    planned = planned_from(value)
    assert planned is not None
    assert [a.action_id for a in planned.actions] == [
        "decided-elsewhere",
        action_id(value["event_id"], 1, "log.record"),
    ]


@pytest.mark.parametrize("outcome", ["REJECT", "REJECTED"])
def test_rejections_run_nothing(outcome: str) -> None:
    assert planned_from(decision("t", [("log.record", {})], outcome=outcome)) is None


@pytest.mark.parametrize("outcome", ["AUTO", "APPROVED"])
def test_only_actions_make_a_plan(outcome: str) -> None:
    assert planned_from(decision("t", [], outcome=outcome)) is None
    assert planned_from(decision("t", [("log.record", {})], outcome=outcome)) is not None


def test_an_action_without_type_is_an_invalid_decision() -> None:
    value = decision("t", [("log.record", {})])
    value["actions"][0]["type"] = ""
    with pytest.raises(InvalidDecisionError, match="has no type"):
        planned_from(value)


def test_executed_records_name_the_connector_and_bound_the_error() -> None:
    record = executed_record(
        event_id="e",
        tenant_id="t",
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
        decision_id="d",
        action_id="a",
        action_type="webhook.post",
        status="FAILED",
        attempts=3,
        trace=TraceContext(traceparent="00-abc-def-01"),
        error="x" * 5000,
    )
    value = record.to_avro()
    assert value["connector"] == "webhook" and len(value["error"]) == 4000
    assert value["trace"] == {"traceparent": "00-abc-def-01", "tracestate": None}
    assert record_key("t", "e") == "t:e"
