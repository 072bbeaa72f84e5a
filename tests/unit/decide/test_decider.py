"""The decider without Kafka: in-memory windows and pending reviews, a fixed policy source."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from aios.decide.decider import Decider, Output
from aios.decide.decisions import PendingReview, completion_fingerprint, decision_json, review_id_for, stage_id
from aios.decide.errors import UnknownReview
from aios.policy.errors import PolicyNotFound
from aios.policy.loading import LoadedPolicy, load_policy
from aios.policy.stream import InMemoryStreamStats
from aios.schemas.records import EventEnriched, ReviewCompleted, TraceContext
from tests.support.decide import enriched_value

POLICY = load_policy(
    """\
tenant: t
rules:
  - name: unsure
    when: {confidence: {lt: 0.6}}
    review: {reason: unsure, sla: 30m}
  - name: junk
    when: {intent: spam}
    reject: {reason: spam}
  - name: routine
    when: {intent: balance}
    auto:
      actions: [{type: webhook.post, params: {body: "{draft}", who: "{label}"}}]
default:
  review: {reason: nothing matched, priority: 4, sla: 1d}
"""
)
DRAFT = "Your balance is under Accounts > Overview."
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
TRACE = TraceContext(traceparent="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")


class Policies:
    def __init__(self, policies: dict[str, LoadedPolicy]) -> None:
        self.policies = policies

    async def active(self, tenant_id: str, written_at: float) -> LoadedPolicy | None:
        return self.policies.get(tenant_id)

    async def version(self, tenant_id: str, version: str) -> LoadedPolicy:
        loaded = self.policies.get(tenant_id)
        if loaded is None or loaded.version != version:
            raise PolicyNotFound(version)
        return loaded


def decider(pending: dict[str, PendingReview] | None = None) -> Decider:
    return Decider(Policies({"t": POLICY}), InMemoryStreamStats(), {} if pending is None else pending)


class Produced:
    """What the decider produced, as its kind, key and Avro value (what goes on the wire)."""

    def __init__(self, output: Output) -> None:
        self.output = output
        self.kind, self.key, self.value = output.kind, output.key, output.record.to_avro()


def decide(d: Decider, event: dict[str, Any]) -> Produced:
    return Produced(
        asyncio.run(d.on_event(EventEnriched.from_avro(event), event["occurred_at"].timestamp(), TRACE, NOW))
    )


def complete(d: Decider, request: dict[str, Any], verdict: str, **fields: Any) -> Any:
    """What the decider produced for a verdict on `request` (None when it produced nothing)."""
    completion = ReviewCompleted(
        event_id=request["event_id"],
        tenant_id=request["tenant_id"],
        occurred_at=request["occurred_at"],
        review_id=request["review_id"],
        verdict=verdict,  # type: ignore[arg-type]  # the parameters name each verdict
        reviewer="bob",
        corrected_label=fields.get("corrected_label"),
        edited_draft=fields.get("edited_draft"),
        reason=fields.get("reason", ""),
        completed_at=NOW,
        trace=TRACE,
        corrected_fields=fields.get("corrected_fields"),
    )
    output = asyncio.run(d.on_completion(completion, TRACE, NOW))
    return None if output is None else Produced(output)


def test_auto_decision_has_derived_ids_and_rendered_actions() -> None:
    event = enriched_value("t")
    output = decide(decider(), event)
    assert output.kind == "decision"
    assert output.key == f"t:{event['event_id']}".encode()
    value = output.value
    assert (value["outcome"], value["decision_id"]) == ("AUTO", stage_id(event["event_id"], "policy"))
    assert value["actions"][0]["params"] == {"body": event["draft"]["text"], "who": "balance"}
    assert value["policy"] == {"version": POLICY.version, "rule": "routine"}
    assert decide(decider(), event).value == value  # same event, same decision


def test_reject_and_no_policy() -> None:
    rejected = decide(decider(), enriched_value("t", label="spam")).value
    assert (rejected["outcome"], rejected["actions"]) == ("REJECT", [])
    other = decide(decider(), enriched_value("other"))
    assert output_rule(other) == ("review", "no-policy", "none")


def output_rule(output: Any) -> tuple[str, str, str]:
    return output.kind, output.value["policy"]["rule"], output.value["policy"]["version"]


def test_review_request_then_each_verdict() -> None:
    pending: dict[str, PendingReview] = {}
    d = decider(pending)
    event = enriched_value("t", confidence=0.3)
    request = decide(d, event).value
    assert request["review_id"] == review_id_for(event["event_id"]) and request["review_id"] in pending
    assert (request["sla_deadline"] - NOW).total_seconds() == 1800
    assert request["proposed_actions"][0]["params"]["body"] == event["draft"]["text"]

    approved = complete(d, request, "APPROVE").value
    assert (approved["outcome"], approved["reviewer"], approved["decision_id"]) == (
        "APPROVED",
        "bob",
        stage_id(event["event_id"], "reviewed"),
    )
    assert approved["actions"] == request["proposed_actions"]
    assert approved["occurred_at"] == event["occurred_at"]


@pytest.mark.parametrize(
    ("verdict", "fields", "outcome", "rule", "body"),
    [
        ("EDIT_APPROVE", {"edited_draft": "Better."}, "APPROVED", "unsure", "Better."),
        (
            "RELABEL",
            {"corrected_label": "balance"},
            "APPROVED",
            "routine",
            "Your balance is under Accounts > Overview.",
        ),
        ("RELABEL", {"corrected_label": "spam"}, "REJECTED", "junk", None),
        ("RELABEL", {"corrected_label": "weather"}, "APPROVED", "default", None),
        ("REJECT", {"reason": "not ours"}, "REJECTED", "unsure", None),
    ],
)
def test_verdicts(verdict: str, fields: dict[str, str], outcome: str, rule: str, body: str | None) -> None:
    d = decider()
    request = decide(d, enriched_value("t", label="balance", confidence=0.3)).value
    decision = complete(d, request, verdict, **fields).value
    assert (decision["outcome"], decision["policy"]["rule"]) == (outcome, rule)
    assert decision["policy"]["version"] == POLICY.version
    assert [a["params"]["body"] for a in decision["actions"]] == ([body] if body else [])
    if verdict == "REJECT":
        assert decision["reason"] == "not ours"
    if verdict == "RELABEL":
        assert (decision["label"], decision["confidence"]) == (fields["corrected_label"], 1.0)


def test_each_review_completes_once() -> None:
    pending: dict[str, PendingReview] = {}
    d = decider(pending)
    event = enriched_value("t", confidence=0.3)
    request = decide(d, event).value
    first = complete(d, request, "EDIT_APPROVE", edited_draft="One.")
    assert complete(d, request, "REJECT", reason="two") is None  # a second verdict
    again = complete(d, request, "EDIT_APPROVE", edited_draft="One.")  # a redelivery: the same decision
    assert again.value == first.value and decision_json(again.output.record) == decision_json(first.output.record)
    # The event itself redelivered must not reopen the review.
    decide(d, event)
    assert pending[request["review_id"]]["completion"] is not None
    assert complete(d, request, "APPROVE") is None


def test_relabel_without_a_label_is_refused() -> None:
    d = decider()
    request = decide(d, enriched_value("t", confidence=0.3)).value
    with pytest.raises(ValueError, match="without corrected_label"):
        complete(d, request, "RELABEL")


def test_unknown_or_foreign_review() -> None:
    d = decider()
    request = decide(d, enriched_value("t", confidence=0.3)).value
    with pytest.raises(UnknownReview):
        complete(d, {**request, "review_id": "nope"}, "APPROVE")
    with pytest.raises(UnknownReview):
        complete(d, {**request, "tenant_id": "intruder"}, "APPROVE")


def test_fingerprint_tells_verdicts_apart() -> None:
    base = ReviewCompleted(
        event_id="e",
        tenant_id="t",
        occurred_at=NOW,
        review_id="r",
        verdict="APPROVE",
        reviewer="a",
        completed_at=NOW,
        trace=TRACE,
    )
    assert completion_fingerprint(base) == completion_fingerprint(replace(base, completed_at=datetime.now(UTC)))
    assert completion_fingerprint(base) != completion_fingerprint(replace(base, reviewer="b"))
