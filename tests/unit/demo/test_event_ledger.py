"""The watch's ledger: an event decided before its sender learnt its id is still counted final."""

from __future__ import annotations

from aios.demo.tracking import EventLedger, StageRecord
from aios.kafka import topics


def decision(event_id: str, outcome: str, action_ids: list[str]) -> StageRecord:
    actions = [{"action_id": action_id} for action_id in action_ids]
    return StageRecord(topics.DECISIONS.name, {"event_id": event_id, "outcome": outcome, "actions": actions}, 2_000)


def executed(event_id: str, action_id: str) -> StageRecord:
    value = {"event_id": event_id, "action_id": action_id, "status": "SUCCEEDED"}
    return StageRecord(topics.ACTIONS_EXECUTED.name, value, 3_000)


def test_records_that_arrive_before_the_id_is_tracked_are_folded_when_it_is() -> None:
    ledger = EventLedger()
    ledger.fold(decision("fast", "AUTO", ["a1"]))
    ledger.fold(executed("fast", "a1"))
    assert ledger.finished == 0 and ledger.others[topics.DECISIONS.name] == 1
    ledger.track(["fast"])
    assert ledger.finished == 1
    assert ledger.tracks["fast"].final_ms == 3_000
    assert not ledger.others


def test_an_automated_event_is_final_only_when_every_action_is_done_in_any_order() -> None:
    ledger = EventLedger()
    ledger.track(["e"])
    ledger.fold(executed("e", "a2"))
    ledger.fold(decision("e", "AUTO", ["a1", "a2"]))
    assert ledger.finished == 0
    ledger.fold(executed("e", "a1"))
    assert ledger.finished == 1


def test_records_of_events_never_tracked_are_counted_as_others() -> None:
    ledger = EventLedger()
    ledger.track(["mine"])
    ledger.fold(StageRecord(topics.DEADLETTER.name, {"event_id": "theirs"}, None))
    assert ledger.others == {topics.DEADLETTER.name: 1}
    assert ledger.finished == 0


def test_the_policy_reason_and_the_first_payout_are_kept() -> None:
    ledger = EventLedger()
    ledger.track(["paid"])
    ledger.fold(
        StageRecord(
            topics.DECISIONS.name,
            {"event_id": "paid", "outcome": "AUTO", "reason": "matches", "actions": [{"action_id": "p"}]},
            2_000,
        )
    )
    for action_id, action_type, at in (("e", "erp.post_invoice", 2_500), ("p", "payment.schedule", 4_000)):
        value = {"event_id": "paid", "action_id": action_id, "action_type": action_type, "status": "SUCCEEDED"}
        ledger.fold(StageRecord(topics.ACTIONS_EXECUTED.name, value, at))
    ledger.fold(
        StageRecord(
            topics.ACTIONS_EXECUTED.name,
            {"event_id": "paid", "action_id": "c", "action_type": "payment.cancel", "status": "SUCCEEDED"},
            9_000,
        )
    )
    track = ledger.tracks["paid"]
    assert (track.reason, track.paid_ms) == ("matches", 4_000)


def test_the_review_reason_outlives_the_decision_after_review() -> None:
    ledger = EventLedger()
    ledger.track(["r"])
    ledger.fold(
        StageRecord(topics.REVIEW_REQUESTED.name, {"event_id": "r", "review_id": "v", "reason": "unknown vendor"}, 1)
    )
    ledger.fold(
        StageRecord(topics.DECISIONS.name, {"event_id": "r", "outcome": "REJECTED", "reason": "no", "actions": []}, 2)
    )
    track = ledger.tracks["r"]
    assert (track.outcome, track.reason, track.review_reason) == ("REJECTED", "no", "unknown vendor")
