"""From a verdict to the records decide produces, and from a review verdict to the final decision (pure).

Ids are derived, never random: an event decided twice (a redelivery) gets the same
`decision_id`, `review_id` and action ids, so downstream consumers see a harmless duplicate.
Events and verdicts come in, decisions and review requests go out, as the typed records of
`aios.schemas.records`. What a pending review needs later is kept as plain JSON (`PendingReview`),
the form Faust's table stores it in, and so is the decision it produced.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from aios.policy.documents import DocumentFacts
from aios.policy.evaluate import EventFacts, Verdict, evaluate_after_review, render_actions
from aios.policy.loading import LoadedPolicy
from aios.policy.model import ActionSpec
from aios.schemas.records import (
    Action,
    Decision,
    EventEnriched,
    Outcome,
    PolicyRef,
    ReviewCompleted,
    ReviewRequested,
    TraceContext,
)
from aios.schemas.timestamps import epoch_ms, from_epoch_ms

POLICY_STAGE = "policy"
REVIEWED_STAGE = "reviewed"
NO_POLICY_RULE = "no-policy"
NO_POLICY_VERSION = "none"

Value = dict[str, Any]
PendingReview = dict[str, Any]
"""JSON: the event's facts, the policy version and rule, the proposed action templates, and once
completed, the completion's fingerprint and the decision it produced."""


def stage_id(event_id: str, stage: str) -> str:
    """Deterministic id of what happens to an event at a stage (32 hex characters)."""
    return hashlib.sha256(f"{event_id}:{stage}".encode()).hexdigest()[:32]


def review_id_for(event_id: str) -> str:
    return stage_id(event_id, "review")


def record_key(record: EventEnriched | Decision | ReviewRequested) -> bytes:
    """`tenant_id:event_id`, so an event's records stay in one partition of every topic."""
    return f"{record.tenant_id}:{record.event_id}".encode()


def no_policy_verdict(sla_s: int) -> Verdict:
    """A tenant without an active policy gets nothing automated: every event goes to a person."""
    return Verdict("review", NO_POLICY_RULE, "no policy is active for this tenant", (), 3, sla_s)


def policy_decision(
    event: EventEnriched, facts: EventFacts, verdict: Verdict, version: str, now: datetime, trace: TraceContext
) -> Decision:
    """The `aios.decisions` record of an AUTO or REJECT verdict."""
    assert verdict.outcome in ("auto", "reject")
    actions = _actions(verdict.actions, facts, verdict) if verdict.outcome == "auto" else []
    return _decision(
        event.occurred_at,
        facts,
        decision_id=stage_id(facts.event_id, POLICY_STAGE),
        outcome="AUTO" if verdict.outcome == "auto" else "REJECT",
        reason=verdict.reason,
        actions=actions,
        version=version,
        rule=verdict.rule,
        reviewer=None,
        now=now,
        trace=trace,
        draft=facts.draft if event.draft is not None else None,
    )


def review_request(
    event: EventEnriched, facts: EventFacts, verdict: Verdict, version: str, now: datetime, trace: TraceContext
) -> tuple[ReviewRequested, PendingReview]:
    """The `aios.review.requested` record of a REVIEW verdict, and what decide keeps until the verdict."""
    assert verdict.outcome == "review" and verdict.sla_s is not None and verdict.priority is not None
    review_id = review_id_for(facts.event_id)
    request = ReviewRequested(
        event_id=event.event_id,
        tenant_id=event.tenant_id,
        occurred_at=event.occurred_at,
        type=event.type,
        text=event.text,
        attributes=dict(event.attributes),
        review_id=review_id,
        reason=verdict.reason,
        priority=verdict.priority,
        sla_deadline=now + timedelta(seconds=verdict.sla_s),
        classification=event.classification,
        passages=list(event.passages),
        draft=event.draft,
        proposed_actions=_actions(verdict.actions, facts, verdict),
        policy=PolicyRef(version=version, rule=verdict.rule),
        trace=trace,
    )
    pending: PendingReview = {
        "review_id": review_id,
        "facts": _facts_json(facts),
        "occurred_at_ms": _epoch_ms(event.occurred_at),
        "policy_version": version,
        "rule": verdict.rule,
        "reason": verdict.reason,
        "actions": [action.model_dump(mode="json", by_alias=True) for action in verdict.actions],
        "has_draft": event.draft is not None,
        "completion": None,
        "decision": None,
    }
    return request, pending


def completion_fingerprint(completion: ReviewCompleted) -> str:
    """What makes two completions the same verdict (a redelivery) rather than a second verdict."""
    fields = (
        completion.review_id,
        completion.verdict,
        completion.reviewer,
        completion.corrected_label,
        completion.edited_draft,
        completion.reason,
    )
    payload = json.dumps([str(field) for field in fields])
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def reviewed_decision(
    pending: PendingReview,
    completion: ReviewCompleted,
    policy: LoadedPolicy | None,
    now: datetime,
    trace: TraceContext,
) -> Decision:
    """The final `aios.decisions` record for a reviewer's verdict on a pending review.

    APPROVE runs the proposed actions, with a document's fields as the reviewer corrected them (a
    payment pays the corrected amount and IBAN); EDIT_APPROVE runs them with the edited draft in place of
    `{draft}` too; RELABEL decides again under the same policy version with the reviewer's label
    (review rules count as approved, a reject rule rejects); REJECT runs nothing. `policy` is that
    version, needed only for RELABEL.
    """
    facts = facts_of_json(pending["facts"])
    verdict = completion.verdict
    reviewer = completion.reviewer
    rule, reason = pending["rule"], pending["reason"]
    actions: list[Action] = []
    outcome: Outcome = "APPROVED"
    if verdict in ("APPROVE", "EDIT_APPROVE"):
        if verdict == "EDIT_APPROVE" and completion.edited_draft is not None:
            facts = replace(facts, draft=completion.edited_draft)
        if completion.corrected_fields and facts.document is not None:
            facts = replace(facts, document=facts.document.corrected(completion.corrected_fields))
        templates = [ActionSpec.model_validate(action) for action in pending["actions"]]
        actions = _actions(templates, facts, Verdict("review", rule, reason))
    elif verdict == "RELABEL":
        if not completion.corrected_label:
            raise ValueError("a RELABEL verdict without corrected_label")
        facts = facts.relabelled(completion.corrected_label)
        if policy is None:  # the tenant had no policy: the label is corrected, nothing is automated
            return _reviewed(
                pending,
                facts,
                outcome="APPROVED",
                reason=reason,
                actions=[],
                rule=rule,
                reviewer=reviewer,
                now=now,
                trace=trace,
            )
        decided = evaluate_after_review(policy.policy, facts)
        rule, reason = decided.rule, decided.reason or reason
        if decided.outcome == "reject":
            outcome = "REJECTED"
        else:
            actions = _actions(decided.actions, facts, decided)
    else:
        outcome, reason = "REJECTED", completion.reason or "rejected by the reviewer"
    actions = actions if outcome == "APPROVED" else []
    return _reviewed(
        pending,
        facts,
        outcome=outcome,
        reason=reason,
        actions=actions,
        rule=rule,
        reviewer=reviewer,
        now=now,
        trace=trace,
    )


def _reviewed(
    pending: PendingReview,
    facts: EventFacts,
    *,
    outcome: Outcome,
    reason: str,
    actions: list[Action],
    rule: str,
    reviewer: str,
    now: datetime,
    trace: TraceContext,
) -> Decision:
    return _decision(
        datetime.fromtimestamp(pending["occurred_at_ms"] / 1000, UTC),
        facts,
        decision_id=stage_id(facts.event_id, REVIEWED_STAGE),
        outcome=outcome,
        reason=reason,
        actions=actions,
        version=pending["policy_version"],
        rule=rule,
        reviewer=reviewer,
        now=now,
        trace=trace,
        draft=facts.draft if pending["has_draft"] or facts.draft else None,
    )


def _decision(  # noqa: PLR0913 -- one keyword per field of the decision record it builds
    occurred_at: datetime,
    facts: EventFacts,
    *,
    decision_id: str,
    outcome: Outcome,
    reason: str,
    actions: list[Action],
    version: str,
    rule: str,
    reviewer: str | None,
    now: datetime,
    trace: TraceContext,
    draft: str | None,
) -> Decision:
    return Decision(
        event_id=facts.event_id,
        tenant_id=facts.tenant_id,
        occurred_at=occurred_at,
        decision_id=decision_id,
        outcome=outcome,
        reason=reason,
        type=facts.type,
        label=facts.label,
        confidence=facts.confidence,
        draft=draft,
        actions=actions,
        policy=PolicyRef(version=version, rule=rule),
        reviewer=reviewer,
        decided_at=now,
        trace=trace,
        refdata_revision=None if facts.document is None else facts.document.reference.revision,
    )


def _actions(templates: Sequence[ActionSpec], facts: EventFacts, verdict: Verdict) -> list[Action]:
    """The policy's action templates rendered for this event, as `aios.Action` records."""
    return [Action.from_avro(action) for action in render_actions(templates, facts, verdict)]


def _facts_json(facts: EventFacts) -> Value:
    return {
        "event_id": facts.event_id,
        "tenant_id": facts.tenant_id,
        "type": facts.type,
        "text": facts.text,
        "label": facts.label,
        "confidence": facts.confidence,
        "oos": facts.oos,
        "attributes": dict(facts.attributes),
        "pii_found": list(facts.pii_found),
        "draft": facts.draft,
        "document": None if facts.document is None else facts.document.to_json(),
    }


def facts_of_json(value: Value) -> EventFacts:
    """Facts kept by `_facts_json` (a review pending since before documents had facts has none)."""
    document = value.get("document")
    return EventFacts(**{**value, "document": None if document is None else DocumentFacts.from_json(document)})


def _epoch_ms(value: datetime | int) -> int:
    return value if isinstance(value, int) else epoch_ms(value)


def decision_json(decision: Decision) -> Value:
    """A decision as JSON (its Avro value, timestamps as epoch ms), to keep in a table and produce again later."""
    value = decision.to_avro()
    return {**value, "occurred_at": _epoch_ms(value["occurred_at"]), "decided_at": _epoch_ms(value["decided_at"])}


def decision_of_json(value: Value) -> Decision:
    """A decision kept by `decision_json`, as it was produced (epoch ms read back exactly)."""
    return Decision.from_avro(
        {
            **value,
            "occurred_at": from_epoch_ms(value["occurred_at"]),
            "decided_at": from_epoch_ms(value["decided_at"]),
        }
    )
