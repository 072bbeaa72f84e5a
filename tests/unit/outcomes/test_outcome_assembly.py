"""What an event's parts add up to: decided only once every planned action has its result."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from aios.outcomes.model import (
    DEAD_LETTER,
    DECISION,
    REVIEW,
    action_part,
    dead_letter_part,
    decision_part,
    outcome_of,
    review_part,
)
from aios.paths import project_root
from aios.schemas.records import (
    Action,
    ActionExecuted,
    DeadLetter,
    Decision,
    PolicyRef,
    ReviewRequested,
    TraceContext,
)
from tests.support.avro_examples import example_value

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
TRACE = TraceContext(traceparent="00-" + "1" * 32 + "-" + "2" * 16 + "-01")


def decision(outcome: str = "AUTO", actions: int = 2) -> Decision:
    return Decision(
        event_id="e1",
        tenant_id="t1",
        occurred_at=NOW,
        decision_id="d1",
        outcome=outcome,  # type: ignore[arg-type]
        reason="answered",
        type="support.ticket",
        label="balance",
        confidence=0.9,
        actions=[Action(action_id=f"a{i}", type="webhook.post") for i in range(actions)],
        policy=PolicyRef(version="v1", rule="default"),
        decided_at=NOW,
        trace=TRACE,
    )


def executed(action_id: str, status: str = "SUCCEEDED") -> ActionExecuted:
    return ActionExecuted(
        event_id="e1",
        tenant_id="t1",
        occurred_at=NOW,
        decision_id="d1",
        action_id=action_id,
        action_type="webhook.post",
        connector="webhook",
        status=status,  # type: ignore[arg-type]
        attempts=1,
        error="boom" if status == "FAILED" else None,
        executed_at=NOW,
        trace=TRACE,
    )


def dead_letter(kind: str = "too-large", service: str = "classify") -> DeadLetter:
    return DeadLetter(
        event_id="e1",
        tenant_id="t1",
        occurred_at=NOW,
        reason="record of 9000 bytes is over the limit",
        error_kind=kind,
        service=service,
        original_topic="aios.events.received",
        original_partition=0,
        original_offset=3,
        trace=TRACE,
    )


def review() -> ReviewRequested:
    schema = json.loads((project_root() / "schemas" / "review_requested.avsc").read_text())
    return ReviewRequested.from_avro({**example_value(schema), "review_id": "r1", "reason": "asked"})


def test_a_decision_waits_for_each_planned_action_then_lists_their_results_in_order() -> None:
    parts = {DECISION: decision_part(decision())}
    assert outcome_of(parts) is None
    parts.update([action_part(executed("a1", "FAILED"))])
    assert outcome_of(parts) is None
    parts.update([action_part(executed("a0"))])
    outcome = outcome_of(parts)
    assert outcome is not None and outcome.kind == "decided" and outcome.final
    assert [(a.action_id, a.status, a.error) for a in outcome.actions] == [
        ("a0", "SUCCEEDED", None),
        ("a1", "FAILED", "boom"),
    ]


def test_results_that_arrive_before_their_decision_count_once_it_comes() -> None:
    parts = dict([action_part(executed("a0"))])
    assert outcome_of(parts) is None
    parts[DECISION] = decision_part(decision(actions=1))
    assert outcome_of(parts) is not None


def test_a_refusing_decision_is_rejected_and_one_without_actions_is_final_at_once() -> None:
    for verdict in ("REJECT", "REJECTED"):
        outcome = outcome_of({DECISION: decision_part(decision(verdict, actions=0))})
        assert outcome is not None and outcome.kind == "rejected" and outcome.final
        assert outcome.decision is not None and outcome.decision.outcome == verdict


def test_a_review_request_is_a_waiting_outcome_and_the_decision_after_it_final() -> None:
    parts = {REVIEW: review_part(review())}
    waiting = outcome_of(parts)
    assert waiting is not None and waiting.kind == "review_requested" and not waiting.final
    assert waiting.review is not None and waiting.review.review_id == "r1"
    parts[DECISION] = decision_part(decision("APPROVED", actions=0))
    final = outcome_of(parts)
    assert final is not None and final.kind == "decided" and final.review is not None


def test_a_dead_letter_ends_the_event_with_its_reason_unless_it_reports_a_failed_action_or_an_observer() -> None:
    part = dead_letter_part(dead_letter())
    assert part is not None
    outcome = outcome_of({DEAD_LETTER: part})
    assert outcome is not None and outcome.kind == "dead_lettered" and outcome.final
    assert outcome.dead_letter is not None and "over the limit" in outcome.dead_letter.reason
    assert dead_letter_part(dead_letter("action-failed", "act")) is None
    assert dead_letter_part(dead_letter("handler-failed", "audit")) is None
