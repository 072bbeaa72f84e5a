"""Following the demo's events through every topic until each reaches a final state.

Read from the topics themselves (a consumer placed at each partition's end before the first
event is sent), never from service logs. Final means: automated and every action executed (or
failed for good), rejected, waiting for a person in the review queue, or dead-lettered.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from confluent_kafka import TIMESTAMP_NOT_AVAILABLE, Consumer, Message, TopicPartition

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

    @property
    def final(self) -> bool:
        if self.outcome is None:
            return False
        if self.outcome in AUTOMATED:
            return self.actions <= self.executed.keys()
        return True


class PipelineWatch:
    """A consumer on every AIOS topic from its current end; `poll` folds what arrived into tracks."""

    def __init__(self, bootstrap: str, codecs: Codecs) -> None:
        self.codecs = codecs
        self.tracks: dict[str, EventTrack] = {}
        self.others: Counter[str] = Counter()
        """Records of events the demo did not send (other tenants, earlier runs), by topic."""
        self._consumer = Consumer(
            {
                **kafka_config(bootstrap),
                "group.id": f"aios-demo-{uuid.uuid4().hex[:8]}",
                "enable.auto.commit": False,
            }
        )
        ends = []
        for topic in STAGES:
            for partition in self._consumer.list_topics(topic, timeout=10).topics[topic].partitions:
                _, high = self._consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
                ends.append(TopicPartition(topic, partition, high))
        self._consumer.assign(ends)

    def track(self, event_ids: Iterable[str]) -> None:
        for event_id in event_ids:
            self.tracks.setdefault(event_id, EventTrack())

    def poll(self, timeout_s: float = 0.5) -> None:
        for message in self._consumer.consume(1000, timeout_s):
            if message.error() is None:
                self._fold(message)

    def _fold(self, message: Message) -> None:
        topic = message.topic() or ""
        value = self.codecs.decode(topic, message.value() or b"")
        track = self.tracks.get(str(value["event_id"]))
        if track is None:
            self.others[topic] += 1
            return
        was_final = track.final
        track.stages.add(STAGES[topic])
        kind, timestamp = message.timestamp()
        at = timestamp if kind != TIMESTAMP_NOT_AVAILABLE else None
        if topic == topics.DECISIONS.name:
            track.outcome = str(value["outcome"])
            track.actions |= (
                {action["action_id"] for action in value["actions"]} if track.outcome in AUTOMATED else set()
            )
            if track.outcome in RESUMED:
                track.resumed_ms = at
        elif topic == topics.REVIEW_REQUESTED.name:
            track.review_id, track.review_requested_ms = str(value["review_id"]), at
            if track.outcome is None:
                track.outcome = "REVIEW"
        elif topic == topics.ACTIONS_EXECUTED.name and value["status"] in ACTION_DONE:
            track.executed[str(value["action_id"])] = str(value["status"])
        elif topic == topics.DEADLETTER.name:
            track.outcome = "DEAD"
        if track.final and not was_final:
            track.final_ms = at

    @property
    def finished(self) -> int:
        return sum(1 for track in self.tracks.values() if track.final)

    def close(self) -> None:
        self._consumer.close()
