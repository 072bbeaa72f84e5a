"""The decide Faust app as a real process against the real broker, registry and PostgreSQL.

One decide process serves the module (Faust's start-up is slow on two cores); each test uses its
own tenants, so their windowed state and reviews never mix.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from aios.db.scratch import scratch_database
from aios.decide.decisions import review_id_for, stage_id
from aios.kafka.scratch import ScratchTopics
from aios.keys.settings import KeySettings
from aios.keys.signing import RecordSigner
from aios.policy.actions import action_id
from aios.policy.loading import policy_version
from aios.settings import ConnectionSettings
from tests.support.decide import (
    DecideProcess,
    DecideTopics,
    TopicIO,
    apply_policy,
    create_tenant_with_policy,
    enriched_value,
)
from tests.support.kafka_io import produce_raw

POLICY = """\
tenant: "{tenant}"
stream: {low_confidence_below: 0.6}
rules:
  - name: junk
    when: {text: {empty: true}}
    reject: {reason: empty text}
  - name: breaker
    when: {stream: {events_5m: {gte: 10}, low_confidence_share_5m: {gt: 0.5}}}
    review: {reason: drifting model, priority: 2, sla: 1h}
  - name: unsure
    when: {confidence: {lt: 0.6}}
    review: {reason: unsure, sla: 30m}
  - name: routine
    when: {intent: [balance, transfer]}
    auto:
      reason: routine
      actions:
        - {type: log.record, params: {message: "{label} for {attributes.customer}"}}
        - {type: webhook.post, params: {body: "{draft}"}}
default:
  review: {reason: no rule, priority: 4, sla: 1d}
"""


class Harness:
    def __init__(self, connection: ConnectionSettings, topics: DecideTopics, dsn: str, process: DecideProcess) -> None:
        self.topics = topics
        self.dsn = dsn
        self.process = process
        self.io = TopicIO(connection, topics)

    def tenant(self, name: str, policy: str | None = POLICY) -> str:
        return create_tenant_with_policy(self.dsn, name, policy)

    def send(self, *values: dict[str, Any]) -> None:
        self.io.produce(self.topics.enriched, list(values))

    def complete(
        self, request: dict[str, Any], verdict: str, signer: RecordSigner | None = None, **fields: Any
    ) -> dict[str, Any]:
        """A verdict on `request`, signed as review signs them (or by `signer`)."""
        completion = {
            "event_id": request["event_id"],
            "tenant_id": request["tenant_id"],
            "occurred_at": request["occurred_at"],
            "review_id": request["review_id"],
            "verdict": verdict,
            "reviewer": "alice",
            "corrected_label": fields.get("corrected_label"),
            "edited_draft": fields.get("edited_draft"),
            "reason": fields.get("reason", ""),
            "completed_at": datetime.now(UTC),
            "trace": request["trace"],
        }
        completion = (signer or RecordSigner("review", "aios.review.completed")).signed(completion)
        self.io.produce(self.topics.completed, [completion])
        return completion

    def decisions(self, event_ids: set[str], count: int | None = None) -> list[dict[str, Any]]:
        """Decisions of these events, one per decision id (redeliveries may repeat one), once `count`
        (default: one per event) are there."""
        return self._distinct(self.topics.decisions, "decision_id", event_ids, count)

    def reviews(self, event_ids: set[str]) -> list[dict[str, Any]]:
        """Review requests of these events, one per review id."""
        return self._distinct(self.topics.review_requested, "review_id", event_ids, None)

    def _distinct(self, topic: str, id_field: str, event_ids: set[str], count: int | None) -> list[dict[str, Any]]:
        wanted = len(event_ids) if count is None else count

        def mine(values: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return list({v[id_field]: v for v in values if v["event_id"] in event_ids}.values())

        found = mine(self.io.read(topic, lambda values: len(mine(values)) >= wanted))
        assert len(found) >= wanted, (found, self.process.tail())
        return found

    def all_decisions(self, event_id: str, at_least: int) -> list[dict[str, Any]]:
        """Every decision record of the event, duplicates included."""
        return [
            v
            for v in self.io.read(
                self.topics.decisions, lambda values: sum(v["event_id"] == event_id for v in values) >= at_least
            )
            if v["event_id"] == event_id
        ]

    def dead_letters(self, count: int) -> list[dict[str, Any]]:
        return self.io.read(self.topics.deadletter, lambda values: len(values) >= count)


@pytest.fixture(scope="module")
def harness(connection: ConnectionSettings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    with (
        ScratchTopics(connection.kafka_bootstrap, connection.schema_registry_url) as scratch,
        scratch_database(connection.postgres_dsn.get_secret_value()) as dsn,
    ):
        topics = DecideTopics.make(scratch.make)
        process = DecideProcess(connection, topics, dsn, tmp_path_factory.mktemp("decide"))
        process.start()
        try:
            yield Harness(connection, topics, dsn, process)
        finally:
            if process.process is not None:
                assert process.stop() == 0, process.tail()
            process.delete_internal_topics()


def test_auto_and_reject_decisions_record_policy_version_and_rule(harness: Harness) -> None:
    tenant = harness.tenant("auto-reject")
    routine = enriched_value(tenant, attributes={"customer": "C-7"})
    empty = enriched_value(tenant, text="   ", label="oos", confidence=0.2, oos=True, draft=None)
    harness.send(routine, empty)
    decisions = {d["event_id"]: d for d in harness.decisions({routine["event_id"], empty["event_id"]})}
    version = policy_version(POLICY.replace("{tenant}", "auto-reject"))

    auto = decisions[routine["event_id"]]
    assert (auto["outcome"], auto["reason"]) == ("AUTO", "routine")
    assert auto["policy"] == {"version": version, "rule": "routine"}
    assert auto["decision_id"] == stage_id(routine["event_id"], "policy")
    assert (auto["label"], auto["confidence"], auto["reviewer"]) == ("balance", 0.93, None)
    assert auto["draft"] == "Your balance is under Accounts > Overview."
    assert auto["actions"] == [
        {
            "action_id": action_id(routine["event_id"], 0, "log.record"),
            "type": "log.record",
            "params": {"message": "balance for C-7"},
            "compensation": None,
        },
        {
            "action_id": action_id(routine["event_id"], 1, "webhook.post"),
            "type": "webhook.post",
            "params": {"body": "Your balance is under Accounts > Overview."},
            "compensation": None,
        },
    ]
    assert auto["trace"]["traceparent"].split("-")[1] == routine["trace"]["traceparent"].split("-")[1]

    reject = decisions[empty["event_id"]]
    assert (reject["outcome"], reject["reason"], reject["actions"], reject["draft"]) == (
        "REJECT",
        "empty text",
        [],
        None,
    )
    assert reject["policy"] == {"version": version, "rule": "junk"}


def test_review_round_trip_completes_once(harness: Harness) -> None:
    tenant = harness.tenant("reviewed")
    unsure = enriched_value(tenant, confidence=0.4, attributes={"customer": "C-8"})
    relabel = enriched_value(tenant, text="move 50 to savings", label="weather", confidence=0.3)
    harness.send(unsure, relabel)
    requests = {r["event_id"]: r for r in harness.reviews({unsure["event_id"], relabel["event_id"]})}
    request = requests[unsure["event_id"]]
    assert request["review_id"] == review_id_for(unsure["event_id"])
    assert (request["reason"], request["priority"], request["policy"]["rule"]) == ("unsure", 3, "unsure")
    deadline = request["sla_deadline"] - datetime.now(UTC)
    assert timedelta(minutes=28) < deadline <= timedelta(minutes=30)
    assert [a["type"] for a in request["proposed_actions"]] == ["log.record", "webhook.post"]
    assert request["passages"] == unsure["passages"] and request["draft"] == unsure["draft"]

    first = harness.complete(request, "EDIT_APPROVE", edited_draft="Edited: see Accounts.")
    [approved] = harness.decisions({unsure["event_id"]})
    assert (approved["outcome"], approved["reviewer"]) == ("APPROVED", "alice")
    assert approved["draft"] == "Edited: see Accounts."
    assert approved["decision_id"] == stage_id(unsure["event_id"], "reviewed")
    assert approved["policy"]["rule"] == "unsure"
    assert approved["actions"][1]["params"] == {"body": "Edited: see Accounts."}
    assert approved["actions"][1]["action_id"] == request["proposed_actions"][1]["action_id"]

    # A second, different verdict is ignored; the same verdict delivered again gives the same decision.
    before = len(harness.all_decisions(unsure["event_id"], 1))
    harness.complete(request, "REJECT", reason="changed my mind")
    harness.io.produce(harness.topics.completed, [first])
    relabelled = requests[relabel["event_id"]]
    harness.complete(relabelled, "RELABEL", corrected_label="transfer")
    [after_relabel] = harness.decisions({relabel["event_id"]})
    again = harness.all_decisions(unsure["event_id"], before + 1)
    assert len(again) >= before + 1
    unrouted = {"trace": None, "signature": None}  # decide signs each copy with its own trace
    assert all({**d, **unrouted} == {**approved, **unrouted} for d in again)  # never REJECTED
    assert (after_relabel["outcome"], after_relabel["label"]) == ("APPROVED", "transfer")
    assert after_relabel["confidence"] == 1.0
    assert after_relabel["policy"]["rule"] == "routine"
    assert [a["type"] for a in after_relabel["actions"]] == ["log.record", "webhook.post"]


def test_tenant_without_policy_goes_to_review(harness: Harness) -> None:
    tenant = harness.tenant("no-policy", policy=None)
    event = enriched_value(tenant)
    harness.send(event)
    [request] = harness.reviews({event["event_id"]})
    assert request["policy"] == {"version": "none", "rule": "no-policy"}
    assert request["proposed_actions"] == []


def test_bad_records_are_dead_lettered_and_the_stream_goes_on(harness: Harness) -> None:
    tenant = harness.tenant("bad-input")
    produce_raw(harness.io.bootstrap, harness.topics.enriched, [(b"k", b"\x00\x00\x00\x00\x01not avro")])
    stranger = enriched_value(tenant)
    unknown = {
        "event_id": stranger["event_id"],
        "tenant_id": tenant,
        "occurred_at": stranger["occurred_at"],
        "review_id": "no-such-review",
        "trace": stranger["trace"],
    }
    harness.complete(unknown, "APPROVE")
    good = enriched_value(tenant)
    harness.send(good)
    harness.decisions({good["event_id"]})
    letters = harness.dead_letters(2)
    by_topic = {letter["original_topic"]: letter for letter in letters}
    assert by_topic[harness.topics.enriched]["error_kind"] == "undecodable"
    assert by_topic[harness.topics.enriched]["original_value"] == b"\x00\x00\x00\x00\x01not avro"
    completion = by_topic[harness.topics.completed]
    assert completion["error_kind"] == "handler-failed"
    assert "no pending review no-such-review" in completion["reason"]
    assert (completion["event_id"], completion["tenant_id"]) == (stranger["event_id"], tenant)


def test_a_verdict_not_signed_by_review_is_refused(harness: Harness, tmp_path: Path) -> None:
    """A verdict written to the topic by anyone but review (signed with another key) decides nothing."""
    tenant = harness.tenant("forged-verdict")
    unsure = enriched_value(tenant, confidence=0.3)
    harness.send(unsure)
    [request] = harness.reviews({unsure["event_id"]})
    impostor = RecordSigner("review", "aios.review.completed", KeySettings(dir=tmp_path))
    harness.complete(request, "APPROVE", signer=impostor)
    letters = harness.io.read(
        harness.topics.deadletter, lambda values: any(v["event_id"] == unsure["event_id"] for v in values)
    )
    [letter] = [v for v in letters if v["event_id"] == unsure["event_id"]]
    assert letter["error_kind"] == "handler-failed" and "does not verify under review's key" in letter["reason"]
    harness.complete(request, "APPROVE")
    [decided] = harness.decisions({unsure["event_id"]})
    assert decided["reviewer"] == "alice" and decided["outcome"] == "APPROVED"


def test_circuit_breaker_sends_everything_to_review_while_the_share_is_high(harness: Harness) -> None:
    drifting, healthy = harness.tenant("drifting"), harness.tenant("healthy")
    low = [enriched_value(drifting, confidence=0.3) for _ in range(12)]
    harness.send(*low)
    assert {r["policy"]["rule"] for r in harness.reviews({e["event_id"] for e in low})} <= {"unsure", "breaker"}

    confident, other = enriched_value(drifting), enriched_value(healthy)
    harness.send(confident, other)
    [tripped] = harness.reviews({confident["event_id"]})
    assert (tripped["policy"]["rule"], tripped["priority"]) == ("breaker", 2)
    assert [a["type"] for a in tripped["proposed_actions"]] == ["log.record", "webhook.post"]
    [unaffected] = harness.decisions({other["event_id"]})
    assert unaffected["outcome"] == "AUTO"  # the breaker is per tenant

    # Confident predictions bring the share down: 10 more keep it above half (12 low of 23)...
    recovering = [enriched_value(drifting) for _ in range(10)]
    harness.send(*recovering)
    assert {r["policy"]["rule"] for r in harness.reviews({e["event_id"] for e in recovering})} == {"breaker"}
    # ... and with the next one it is no longer above (12 of 24): automation resumes.
    resumed = enriched_value(drifting)
    harness.send(resumed)
    [decision] = harness.decisions({resumed["event_id"]})
    assert (decision["outcome"], decision["policy"]["rule"]) == ("AUTO", "routine")


def test_policy_changes_and_state_survive_a_restart(harness: Harness, tmp_path: Path) -> None:
    tenant = harness.tenant("restarted")
    low = [enriched_value(tenant, confidence=0.3) for _ in range(11)]
    harness.send(*low)
    requests = harness.reviews({e["event_id"] for e in low})

    assert harness.process.stop() == 0, harness.process.tail()
    harness.process.start()

    # The windows came back from their changelog: the breaker is still open for this tenant.
    confident = enriched_value(tenant)
    harness.send(confident)
    [tripped] = harness.reviews({confident["event_id"]})
    assert tripped["policy"]["rule"] == "breaker"
    # A review requested before the restart still completes.
    harness.complete(requests[0], "APPROVE")
    [approved] = harness.decisions({requests[0]["event_id"]})
    assert approved["outcome"] == "APPROVED"

    # A newly applied version decides within seconds, without a restart (decide polls every 0.5 s here).
    stricter = POLICY.replace("{tenant}", "restarted").replace("gte: 10", "gte: 1000")
    version = apply_policy(harness.dsn, tenant, stricter.replace("intent: [balance, transfer]", "intent: [transfer]"))
    deadline = time.monotonic() + 10
    while True:
        later = enriched_value(tenant)
        harness.send(later)
        [request] = harness.reviews({later["event_id"]})
        if request["policy"]["version"] == version or time.monotonic() > deadline:
            break
    assert request["policy"] == {"version": version, "rule": "default"}
