"""The records of a time window of a topic: each partition from its first offset at `since` to its last before `until`.

Offsets come from the broker's time index (`offsets_for_times`), so a window of last week is read
without scanning the topic from the beginning. The end of each partition is fixed before reading
starts (the offset at `until`, else the high watermark), so a busy topic does not keep the read
going forever. Nothing is committed: the reader has no consumer group of its own to move.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from confluent_kafka import Consumer, TopicPartition

from aios.kafka.clients import kafka_config
from aios.kafka.errors import KafkaSetupError
from aios.policy.model import parse_duration

Headers = list[tuple[str, bytes]]


class WindowError(KafkaSetupError):
    """A window that cannot be read: a time that does not parse, a topic that does not exist."""


@dataclass(frozen=True)
class WindowRecord:
    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes
    headers: Headers


@dataclass(frozen=True)
class Span:
    """Offsets `[start, end)` of one partition that the window covers."""

    partition: int
    start: int
    end: int

    @property
    def size(self) -> int:
        return max(0, self.end - self.start)


class TimeWindow:
    """One topic between two instants (epoch ms; `until_ms=None`: up to now)."""

    def __init__(
        self, bootstrap: str, topic: str, since_ms: int, until_ms: int | None = None, timeout_s: float = 30.0
    ) -> None:
        self.topic = topic
        self.since_ms = since_ms
        self.until_ms = until_ms
        self.timeout_s = timeout_s
        self._consumer = Consumer(
            {
                **kafka_config(bootstrap),
                # A group id is required by the client; nothing is ever committed under it.
                "group.id": f"aios-window-{uuid.uuid4().hex[:12]}",
                "enable.auto.commit": False,
                "enable.partition.eof": False,
            }
        )
        self.spans = self._spans()

    @property
    def size(self) -> int:
        """Offsets in the window (an upper bound on its records)."""
        return sum(span.size for span in self.spans)

    def _spans(self) -> list[Span]:
        metadata = self._consumer.list_topics(self.topic, timeout=self.timeout_s).topics.get(self.topic)
        if metadata is None or metadata.error is not None or not metadata.partitions:
            raise WindowError(f"topic {self.topic} does not exist")
        partitions = sorted(metadata.partitions)
        highs = {
            p: self._consumer.get_watermark_offsets(TopicPartition(self.topic, p), self.timeout_s)[1]
            for p in partitions
        }
        starts = self._offsets_at(partitions, self.since_ms, highs)
        ends = highs if self.until_ms is None else self._offsets_at(partitions, self.until_ms, highs)
        return [Span(p, starts[p], ends[p]) for p in partitions]

    def _offsets_at(self, partitions: list[int], at_ms: int, highs: dict[int, int]) -> dict[int, int]:
        """The first offset with a timestamp at or after `at_ms`; the high watermark when there is none."""
        found = self._consumer.offsets_for_times(
            [TopicPartition(self.topic, p, at_ms) for p in partitions], timeout=self.timeout_s
        )
        return {tp.partition: tp.offset if tp.offset >= 0 else highs[tp.partition] for tp in found}

    def records(self, on_record: Callable[[], None] | None = None) -> Iterator[WindowRecord]:
        """Every record of the window, partition by partition interleaved as the broker serves them."""
        pending = {span.partition: span for span in self.spans if span.size}
        if not pending:
            self._consumer.close()
            return
        self._consumer.assign([TopicPartition(self.topic, s.partition, s.start) for s in pending.values()])
        try:
            idle_polls = 0
            while pending:
                batch = self._consumer.consume(500, 1.0)
                idle_polls = 0 if batch else idle_polls + 1
                if not batch:
                    self._drop_finished(pending)
                if pending and idle_polls * 1.0 > self.timeout_s:
                    raise WindowError(f"{self.topic}: no records for {self.timeout_s:.0f}s before the window's end")
                for message in batch:
                    if message.error() is not None:
                        continue
                    partition, offset = message.partition() or 0, message.offset() or 0
                    span = pending.get(partition)
                    if span is None or offset >= span.end:
                        continue
                    if offset >= span.end - 1:
                        del pending[partition]
                    if on_record is not None:
                        on_record()
                    yield WindowRecord(
                        self.topic,
                        partition,
                        offset,
                        message.timestamp()[1],
                        message.key(),
                        message.value() or b"",
                        _headers(message.headers()),
                    )
        finally:
            self._consumer.close()

    def _drop_finished(self, pending: dict[int, Span]) -> None:
        """Partitions whose position passed the end: offsets without records (transaction markers) end there."""
        positions = self._consumer.position([TopicPartition(self.topic, p) for p in pending])
        for tp in positions:
            if tp.offset >= pending[tp.partition].end:
                del pending[tp.partition]


def parse_instant(text: str, now: datetime | None = None) -> datetime:
    """An ISO-8601 time (UTC when it names no zone) or a duration ago: `2026-12-01T08:00`, `90m`, `24h`, `7d`."""
    now = now or datetime.now(UTC)
    try:
        return now - timedelta(seconds=parse_duration(text))
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise WindowError(f"{text!r} is neither an ISO-8601 time nor a duration such as 90m, 24h or 7d") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def epoch_ms_of(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _headers(raw: Mapping[str, str | bytes | None] | list[tuple[str, str | bytes | None]] | None) -> Headers:
    pairs = list(raw.items()) if isinstance(raw, Mapping) else raw or []
    return [(name, value.encode() if isinstance(value, str) else value or b"") for name, value in pairs]
