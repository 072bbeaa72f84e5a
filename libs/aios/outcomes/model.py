"""An event's outcome and how it is assembled from the records of the outcome topics (pure, no I/O).

The notifier stores each record that tells something of an event's end as a *part* (decision,
one result per action, review request, dead letter); `outcome_of` says what the parts add up to.
An outcome is *final* (decided, rejected, dead-lettered: nothing more will happen) or *waiting*
(review_requested: a person decides next, and a final outcome follows).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from aios.schemas.records import ActionExecuted, DeadLetter, Decision, ReviewRequested

OutcomeKind = Literal["decided", "rejected", "review_requested", "dead_lettered"]

DECISION = "decision"
REVIEW = "review"
DEAD_LETTER = "dead_letter"
ACTION_PREFIX = "action:"
"""Part names: one part per kind, one per action result (`action:<action id>`)."""

REJECTING = frozenset({"REJECT", "REJECTED"})
"""Decision outcomes that refuse the event (by policy alone, or by a reviewer)."""

NOT_AN_END = frozenset({"action-failed", "compensation-failed"})
"""Dead-letter kinds that report a failed action of a decision: its FAILED result says so, the event is decided."""

OBSERVERS = frozenset({"audit", "outcomes"})
"""Services that only watch the pipeline: a record they could not read still went on its way."""


class ActionOutcome(BaseModel):
    action_id: str
    type: str
    status: str | None = Field(description="SUCCEEDED, FAILED, COMPENSATED or SKIPPED_DUPLICATE.")
    connector: str | None = None
    attempts: int | None = None
    external_ref: str | None = Field(default=None, description="The receiving system's id of the effect.")
    error: str | None = Field(default=None, description="Why the action failed, when it did.")


class DecisionOutcome(BaseModel):
    decision_id: str
    outcome: str = Field(description="AUTO or REJECT by policy alone; APPROVED or REJECTED after a review.")
    reason: str
    label: str = Field(description="The intent the classifier predicted.")
    confidence: float
    draft: str | None = Field(default=None, description="The grounded draft reply, when one was made.")
    policy_version: str
    rule: str = Field(description="The policy rule that fired.")
    refdata_revision: int | None = Field(
        default=None, description="The reference-data revision a document was looked up in (null: none)."
    )
    reviewer: str | None = None
    decided_at: datetime


class ReviewOutcome(BaseModel):
    review_id: str
    reason: str
    priority: int = Field(description="1 is most urgent.")
    sla_deadline: datetime = Field(description="When a person is due to have decided.")


class DeadLetterOutcome(BaseModel):
    reason: str
    error_kind: str
    service: str = Field(description="The service that could not process the event.")


class Outcome(BaseModel):
    """What became of an event, as far as the pipeline has taken it."""

    kind: OutcomeKind
    final: bool = Field(description="False only for review_requested: a person decides next.")
    decision: DecisionOutcome | None = None
    actions: list[ActionOutcome] = Field(
        default_factory=list, description="Each of the decision's actions with its result, in the decision's order."
    )
    review: ReviewOutcome | None = None
    dead_letter: DeadLetterOutcome | None = None


def decision_part(decision: Decision) -> str:
    summary = DecisionOutcome(
        decision_id=decision.decision_id,
        outcome=decision.outcome,
        reason=decision.reason,
        label=decision.label,
        confidence=decision.confidence,
        draft=decision.draft,
        policy_version=decision.policy.version,
        rule=decision.policy.rule,
        refdata_revision=decision.refdata_revision,
        reviewer=decision.reviewer,
        decided_at=decision.decided_at,
    )
    planned = [{"action_id": action.action_id, "type": action.type} for action in decision.actions]
    return json.dumps({"decision": summary.model_dump(mode="json"), "actions": planned})


def action_part(executed: ActionExecuted) -> tuple[str, str]:
    result = ActionOutcome(
        action_id=executed.action_id,
        type=executed.action_type,
        status=executed.status,
        connector=executed.connector,
        attempts=executed.attempts,
        external_ref=executed.external_ref,
        error=executed.error,
    )
    return ACTION_PREFIX + executed.action_id, result.model_dump_json()


def review_part(requested: ReviewRequested) -> str:
    review = ReviewOutcome(
        review_id=requested.review_id,
        reason=requested.reason,
        priority=requested.priority,
        sla_deadline=requested.sla_deadline,
    )
    return review.model_dump_json()


def dead_letter_part(dead: DeadLetter) -> str | None:
    """The part of a dead letter that ends the event's way through the pipeline; None for one that does not."""
    if dead.error_kind in NOT_AN_END or dead.service in OBSERVERS:
        return None
    return DeadLetterOutcome(reason=dead.reason, error_kind=dead.error_kind, service=dead.service).model_dump_json()


def outcome_of(parts: Mapping[str, str]) -> Outcome | None:
    """What the parts add up to: a decision once every action has its result, else a dead letter, else a
    review request; None while nothing is known yet."""
    if DECISION in parts:
        decided = _decided(parts)
        if decided is not None:
            return decided
    if DEAD_LETTER in parts:
        return Outcome(
            kind="dead_lettered", final=True, dead_letter=DeadLetterOutcome.model_validate_json(parts[DEAD_LETTER])
        )
    if REVIEW in parts:
        return Outcome(kind="review_requested", final=False, review=ReviewOutcome.model_validate_json(parts[REVIEW]))
    return None


def _decided(parts: Mapping[str, str]) -> Outcome | None:
    stored: dict[str, Any] = json.loads(parts[DECISION])
    decision = DecisionOutcome.model_validate(stored["decision"])
    results = [parts.get(ACTION_PREFIX + planned["action_id"]) for planned in stored["actions"]]
    if any(result is None for result in results):
        return None
    actions = [ActionOutcome.model_validate_json(result) for result in results if result is not None]
    review = ReviewOutcome.model_validate_json(parts[REVIEW]) if REVIEW in parts else None
    kind: OutcomeKind = "rejected" if decision.outcome in REJECTING else "decided"
    return Outcome(kind=kind, final=True, decision=decision, actions=actions, review=review)
