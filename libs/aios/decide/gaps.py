"""Noticing records Faust skipped, so decide reads them again instead of losing them.

Seen in the demo: right after a long table recovery, under a burst, faust-streaming handed the
agents the first records of each input partition, then a block of four or five later offsets
never reached them, and the consumer went on (and committed) past them: 24 of 1,000 events
never decided (and in a chaos run, 13 right after decide's restart). Our input topics are
written without transactions and never compacted, so their offsets are contiguous: a record whose
offset is past the next one expected on its partition means records were skipped. The agent then
reads the skipped records straight from Kafka with a consumer of its own (seeking Faust's consumer
back does not work: Faust drops records below the highest offset it has read) and handles them
before the record in hand. A rebalance forgets what was expected (another worker may have handled
those offsets).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Hashable
from dataclasses import dataclass, field

from confluent_kafka import Consumer, Message, TopicPartition


@dataclass
class OffsetGaps:
    _next: dict[Hashable, int] = field(default_factory=dict)
    """Partition → the offset expected next."""

    def observe(self, tp: Hashable, offset: int) -> int | None:
        """The first skipped offset when `offset` jumps past the one expected, else None.

        Each jump is named once, since what follows it is expected from there on; the same offsets
        skipped again after a rebalance are named again (the records are read again, and handling
        them twice gives the same derived ids).
        """
        expected = self._next.get(tp)
        self._next[tp] = offset + 1
        if expected is None or offset <= expected:
            return None
        return expected

    def forget(self) -> None:
        """After a rebalance: the next record of each partition starts afresh."""
        self._next.clear()


def read_skipped(
    bootstrap: str, topic: str, partition: int, start: int, stop: int, timeout_s: float = 30
) -> list[Message]:
    """Records `start` to `stop` - 1 of the partition, read without a consumer group (nothing committed)."""
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": f"decide-gaps-{uuid.uuid4().hex[:8]}", "enable.auto.commit": False}
    )
    found: list[Message] = []
    try:
        consumer.assign([TopicPartition(topic, partition, start)])
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and (not found or (found[-1].offset() or 0) < stop - 1):
            for message in consumer.consume(stop - start, 1.0):
                if message.error() is None and (message.offset() or 0) < stop:
                    found.append(message)
    finally:
        consumer.close()
    return found
