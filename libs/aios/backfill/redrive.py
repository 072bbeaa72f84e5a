"""Re-driving a window of a topic: its records appended again, each to its own partition, then followed until
the service's consumer group has read past them.

The copies are the original bytes (key, value, headers) plus an `aios-backfill` header naming where the
original sits, so per-entity order holds and every consumer decodes them as before. What makes this safe
is what makes redelivery safe everywhere in AIOS: ids are derived from the event (decision, review and
action ids), so a service that already did its part for an event does nothing the second time; the act
service's inbox skips an action id it has performed.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from confluent_kafka import Consumer, TopicPartition

from aios.kafka.clients import kafka_config
from aios.kafka.producer import ReliableProducer
from aios.kafka.timewindow import TimeWindow

BACKFILL_HEADER = "aios-backfill"
"""On a re-driven copy: `topic[partition]@offset` of the original."""


@dataclass(frozen=True)
class Redriven:
    topic: str
    records: int
    targets: dict[int, int]
    """Per partition, the offset the group must have committed to have read every copy."""


def redrive(
    bootstrap: str, topic: str, since_ms: int, until_ms: int | None, on_record: Callable[[], None] | None = None
) -> Redriven:
    """Append the window's records again, each copy to its original's partition."""
    window = TimeWindow(bootstrap, topic, since_ms, until_ms)
    producer = ReliableProducer(bootstrap, client_id="aios-backfill")
    sent = 0
    for record in window.records(on_record):
        origin = f"{record.topic}[{record.partition}]@{record.offset}".encode()
        producer.produce(
            topic,
            record.value,
            key=record.key,
            headers=[*record.headers, (BACKFILL_HEADER, origin)],
            partition=record.partition,
        )
        sent += 1
    producer.flush()
    return Redriven(topic, sent, _high_watermarks(bootstrap, topic, {s.partition for s in window.spans}))


def committed(bootstrap: str, group: str, topic: str, partitions: set[int]) -> dict[int, int]:
    """The group's committed offset per partition (-1 where it has none); reading does not join the group."""
    consumer = Consumer({**kafka_config(bootstrap), "group.id": group, "enable.auto.commit": False})
    try:
        found = consumer.committed([TopicPartition(topic, p) for p in sorted(partitions)], timeout=30)
    finally:
        consumer.close()
    return {tp.partition: tp.offset for tp in found}


def wait_for_group(
    bootstrap: str,
    group: str,
    redriven: Redriven,
    timeout_s: float,
    on_progress: Callable[[int], None] | None = None,
    poll_s: float = 1.0,
) -> bool:
    """True once `group` has committed past every copy; `on_progress(copies behind)` after each look."""
    deadline = time.monotonic() + timeout_s
    while True:
        positions = committed(bootstrap, group, redriven.topic, set(redriven.targets))
        behind = sum(max(0, target - max(0, positions.get(p, -1))) for p, target in redriven.targets.items())
        if on_progress is not None:
            on_progress(min(behind, redriven.records))
        if behind == 0:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(poll_s)


def _high_watermarks(bootstrap: str, topic: str, partitions: set[int]) -> dict[int, int]:
    consumer = Consumer({**kafka_config(bootstrap), "group.id": f"aios-backfill-{uuid.uuid4().hex[:12]}"})
    try:
        return {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=30)[1] for p in sorted(partitions)}
    finally:
        consumer.close()
