"""Following the demo's events through every topic until each reaches a final state.

Read from the topics themselves (a consumer placed at each partition's end before the first
event is sent), never from service logs. Final means: automated and every action executed (or
failed for good), rejected, waiting for a person in the review queue, or dead-lettered.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import TIMESTAMP_NOT_AVAILABLE, Consumer, Message, TopicPartition

from aios.connectors.payment import is_payout
from aios.kafka import topics
from aios.kafka.clients import kafka_config
from aios.kafka.serde import Codecs

STAGES = {
    topics.EVENTS_RECEIVED.name: "received",
    topics.EVENTS_CLASSIFIED.name: "classified",
    topics.EVENTS_ENRICHED.name: "enriched",
    topics.DECISIONS.name: "decided",
    topics.REVIEW_REQUESTED.name: "review requested",
    topics.ACTIONS_EXECUTED.name: "action executed",
    topics.DEADLETTER.name: "dead-lettered",
}
AUTOMATED = ("AUTO", "APPROVED")
RESUMED = ("APPROVED", "REJECTED")
"""Outcomes of a decision taken after a person's verdict."""
ACTION_DONE = ("SUCCEEDED", "FAILED", "COMPENSATED", "SKIPPED_DUPLICATE")
RECOUNT_TIMEOUT_S = 120.0


@dataclass
class EventTrack:
    """What the topics have shown of one event so far."""

    stages: set[str] = field(default_factory=set)
    outcome: str | None = None
    """AUTO, REJECT (decisions), REVIEW (review requested) or DEAD (dead letter)."""
    actions: set[str] = field(default_factory=set)
    executed: dict[str, str] = field(default_factory=dict)
    """Action id → status, from aios.actions.executed."""
    final_ms: int | None = None
    review_id: str | None = None
    review_requested_ms: int | None = None
    """Broker time of the review request, when the event was sent to a person."""
    resumed_ms: int | None = None
    """Broker time of the decision decide took after the person's verdict (APPROVED or REJECTED)."""
    reason: str | None = None
    """The reason of the event's latest decision."""
    review_reason: str | None = None
    """Why the policy sent the event to a person."""
    paid_ms: int | None = None
    """Broker time of the first payout made for the event (an action creating a payout succeeded)."""

    @property
    def final(self) -> bool:
        if self.outcome is None:
            return False
        if self.outcome in AUTOMATED:
            return self.actions <= self.executed.keys()
        return True


@dataclass(frozen=True)
class StageRecord:
    """One record of an event on one of the STAGES topics, as folded into its track."""

    topic: str
    value: dict[str, Any]
    at_ms: int | None


class EventLedger:
    """Tracks folded from stage records, whatever order records and `track` calls arrive in.

    A sender learns an event's id only when ingest answers, and the pipeline may have decided the
    event before that answer is read: records of ids not tracked yet are held, and folded when the
    id is tracked, so no event is ever missed for being fast.
    """

    def __init__(self) -> None:
        self.tracks: dict[str, EventTrack] = {}
        self._held: dict[str, list[StageRecord]] = {}

    def track(self, event_ids: Iterable[str]) -> None:
        for event_id in event_ids:
            if event_id not in self.tracks:
                self.tracks[event_id] = EventTrack()
                for record in self._held.pop(event_id, []):
                    _fold(self.tracks[event_id], record)

    def fold(self, record: StageRecord) -> None:
        event_id = str(record.value["event_id"])
        track = self.tracks.get(event_id)
        if track is None:
            self._held.setdefault(event_id, []).append(record)
        else:
            _fold(track, record)

    @property
    def others(self) -> Counter[str]:
        """Records of events nobody tracked (other tenants, earlier runs), by topic."""
        return Counter(record.topic for records in self._held.values() for record in records)

    @property
    def finished(self) -> int:
        return sum(1 for track in self.tracks.values() if track.final)


def _fold(track: EventTrack, record: StageRecord) -> None:
    topic, value, at = record.topic, record.value, record.at_ms
    was_final = track.final
    track.stages.add(STAGES[topic])
    if topic == topics.DECISIONS.name:
        track.outcome, track.reason = str(value["outcome"]), value.get("reason")
        track.actions |= {action["action_id"] for action in value["actions"]} if track.outcome in AUTOMATED else set()
        if track.outcome in RESUMED:
            track.resumed_ms = at
    elif topic == topics.REVIEW_REQUESTED.name:
        track.review_id, track.review_requested_ms = str(value["review_id"]), at
        track.review_reason = value.get("reason")
        if track.outcome is None:
            track.outcome = "REVIEW"
    elif topic == topics.ACTIONS_EXECUTED.name and value["status"] in ACTION_DONE:
        track.executed[str(value["action_id"])] = str(value["status"])
        if value["status"] == "SUCCEEDED" and is_payout(value.get("action_type")) and track.paid_ms is None:
            track.paid_ms = at
    elif topic == topics.DEADLETTER.name:
        track.outcome = "DEAD"
    if track.final and not was_final:
        track.final_ms = at


class PipelineWatch:
    """A consumer on every AIOS topic from its current end; `poll` folds what arrived into an EventLedger."""

    def __init__(self, bootstrap: str, codecs: Codecs) -> None:
        self.codecs = codecs
        self.ledger = EventLedger()
        self._bootstrap = bootstrap
        self._consumer = _consumer(bootstrap)
        self.starts: list[TopicPartition] = []
        """Where the watch began on each partition: a recount reads the same stretch again."""
        for topic in STAGES:
            for partition in self._consumer.list_topics(topic, timeout=10).topics[topic].partitions:
                _, high = self._consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
                self.starts.append(TopicPartition(topic, partition, high))
        self._consumer.assign(self.starts)

    @property
    def tracks(self) -> dict[str, EventTrack]:
        return self.ledger.tracks

    @property
    def others(self) -> Counter[str]:
        return self.ledger.others

    @property
    def finished(self) -> int:
        return self.ledger.finished

    def track(self, event_ids: Iterable[str]) -> None:
        self.ledger.track(event_ids)

    def poll(self, timeout_s: float = 0.5) -> None:
        for message in self._consumer.consume(1000, timeout_s):
            if message.error() is None:
                self.ledger.fold(self._record(message))

    def recount(self) -> EventLedger:
        """A second count of the tracked events, read afresh from the topics between the watch's start and now.

        A check on the watch itself: a benchmark that compares the two cannot wait on an event that
        a bookkeeping slip lost, nor report one as final that the topics never finalised.
        """
        ledger = EventLedger()
        ledger.track(self.tracks)
        consumer = _consumer(self._bootstrap)
        try:
            begins = {(start.topic, start.partition): start.offset for start in self.starts}
            ends = {key: consumer.get_watermark_offsets(TopicPartition(*key), timeout=10)[1] for key in begins}
            remaining = {key for key, end in ends.items() if end > begins[key]}
            consumer.assign(self.starts)
            deadline = time.monotonic() + RECOUNT_TIMEOUT_S
            while remaining and time.monotonic() < deadline:
                for message in consumer.consume(1000, 1.0):
                    key = (message.topic() or "", message.partition() or 0)
                    if message.error() is None and (message.offset() or 0) < ends[key]:
                        ledger.fold(self._record(message))
                # Positions, not the last offsets seen: they step over transaction markers too.
                positions = consumer.position([TopicPartition(*key) for key in remaining])
                remaining -= {(p.topic, p.partition) for p in positions if p.offset >= ends[(p.topic, p.partition)]}
            if remaining:
                raise TimeoutError(f"recount did not reach the end of {sorted(remaining)} in {RECOUNT_TIMEOUT_S:.0f} s")
        finally:
            consumer.close()
        return ledger

    def _record(self, message: Message) -> StageRecord:
        topic = message.topic() or ""
        kind, timestamp = message.timestamp()
        return StageRecord(
            topic,
            self.codecs.decode(topic, message.value() or b""),
            timestamp if kind != TIMESTAMP_NOT_AVAILABLE else None,
        )

    def close(self) -> None:
        self._consumer.close()


def _consumer(bootstrap: str) -> Consumer:
    return Consumer(
        {**kafka_config(bootstrap), "group.id": f"aios-demo-{uuid.uuid4().hex[:8]}", "enable.auto.commit": False}
    )
