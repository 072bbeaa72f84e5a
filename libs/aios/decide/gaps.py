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
those offsets); the first record of a partition after it is then expected at the group's committed
offset, where Faust resumed reading, so a record lost right at the resume point is named too.

Why Faust skips them (faust-streaming 0.15.3, issue #596): `Recovery.on_recovery_completed`
resumes the input partitions and awaits `Consumer.perform_seek` while the fetcher, started for the
changelog recovery, is running; records fetched in that window go into the streams' queues (and
the read offset moves past them), then `app.flow_control.resume()` clears every queue made with
`clear_on_resume`, the streams' included. The agents keep the first records they took and never
see the rest. And Faust's commit does not notice a lost record right at the resume point: its
`Consumer._new_offset` refuses to commit past a hole only when the first acked offset is more than
one past the committed one, but a committed offset is the next to read, so a hole of exactly that
record is committed over (seen in a chaos run: one event enriched while decide was down, never
decided after its restart).

The agents see the guard as a `GapGuard`; `ReadingGapGuard` is the one they get.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, ConsumerRecord
from aiokafka import TopicPartition as AIOTopicPartition
from confluent_kafka import ConsumerGroupTopicPartitions, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient

from aios.decide.records import Record
from aios.kafka.clients import access, kafka_config
from aios.observability import metrics

log = logging.getLogger(__name__)


class GapGuard(Protocol):
    """What the agents ask before each record Faust delivers, and tell after a rebalance."""

    async def skipped_before(self, message: Any) -> list[tuple[Record, int]]:
        """The records Faust skipped before this message on its partition, with their offsets, in order."""
        ...

    def forget(self) -> None:
        """Partitions moved: what was expected of them no longer holds."""
        ...


class ReadingGapGuard:
    """Notices skipped offsets (`OffsetGaps`) and reads those records straight from Kafka (`read_skipped`)."""

    def __init__(self, bootstrap: str, service: str, group: str) -> None:
        self.bootstrap = bootstrap
        self.service = service
        self.group = group
        """The agents' consumer group: where it committed is where Faust resumes a partition."""
        self.gaps = OffsetGaps()

    async def skipped_before(self, message: Any) -> list[tuple[Record, int]]:
        if not self.gaps.expects(message.tp):
            await self._expect_resume_point(message.topic, message.partition, message.tp)
        skipped_from = self.gaps.observe(message.tp, message.offset)
        if skipped_from is None:
            return []
        log.warning(
            "%s: offsets %d..%d of %s[%d] never reached the agent; reading them from Kafka",
            self.service,
            skipped_from,
            message.offset - 1,
            *message.tp,
        )
        found = await read_skipped(self.bootstrap, message.topic, message.partition, skipped_from, message.offset)
        metrics.DECIDE_SKIPPED_RECORDS.labels(self.service, message.topic).inc(len(found))
        return [(Record.of_aiokafka(m), m.offset) for m in found]

    async def _expect_resume_point(self, topic: str, partition: int, tp: Hashable) -> None:
        """Expect the group's committed offset first; when it cannot be read, only later jumps are noticed."""
        try:
            resumed_at = await asyncio.to_thread(committed_offset, self.bootstrap, self.group, topic, partition)
        except KafkaException as exc:
            log.warning("%s: the committed offset of %s[%d] is unknown (%s)", self.service, topic, partition, exc)
            return
        if resumed_at is not None:
            self.gaps.expect(tp, resumed_at)

    def forget(self) -> None:
        self.gaps.forget()


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

    def expects(self, tp: Hashable) -> bool:
        return tp in self._next

    def expect(self, tp: Hashable, offset: int) -> None:
        """The partition is read from `offset` on (where it was resumed)."""
        self._next[tp] = offset

    def forget(self) -> None:
        """After a rebalance: the next record of each partition starts afresh."""
        self._next.clear()


def committed_offset(bootstrap: str, group: str, topic: str, partition: int, timeout_s: float = 10) -> int | None:
    """The group's committed offset of the partition (the next to read), or None before its first commit.

    Asked with an admin client: a consumer would need a group of its own, and librdkafka's consumer can
    hang in `close()` while it looks for that group's coordinator (librdkafka #3740, seen here).
    """
    admin = AdminClient(kafka_config(bootstrap))
    asked = ConsumerGroupTopicPartitions(group, [TopicPartition(topic, partition)])
    [future] = admin.list_consumer_group_offsets([asked], request_timeout=timeout_s).values()
    [committed] = future.result(timeout=timeout_s).topic_partitions
    if committed.error is not None:
        raise KafkaException(committed.error)
    return committed.offset if committed.offset >= 0 else None


async def read_skipped(
    bootstrap: str, topic: str, partition: int, start: int, stop: int, timeout_s: float = 30
) -> list[ConsumerRecord[bytes, bytes]]:
    """Records `start` to `stop` - 1 of the partition, read without a consumer group (nothing committed).

    With aiokafka, which reads assigned partitions with no group at all (confluent-kafka's consumer
    insists on one, and with it on a group coordinator).
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap.split(","),
        group_id=None,
        enable_auto_commit=False,
        **access().aiokafka(),
    )
    place = AIOTopicPartition(topic, partition)
    found: list[ConsumerRecord[bytes, bytes]] = []
    await consumer.start()
    try:
        consumer.assign([place])
        consumer.seek(place, start)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and (not found or found[-1].offset < stop - 1):
            fetched = await consumer.getmany(place, timeout_ms=1000, max_records=stop - start)
            found.extend(m for m in fetched.get(place, []) if m.offset < stop)
    finally:
        await consumer.stop()
    return found
