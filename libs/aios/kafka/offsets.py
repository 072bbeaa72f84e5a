"""Which offsets to commit after a batch: per partition, one past the last record handled."""

from __future__ import annotations

from collections.abc import Iterable

from confluent_kafka import TopicPartition

Coordinates = tuple[str, int]


def next_offsets(positions: Iterable[tuple[str, int, int]]) -> dict[Coordinates, int]:
    """(topic, partition, offset) triples → the offset to commit for each partition.

    Kafka's committed offset is the next record to read, hence `max + 1`; the order records
    arrive in does not matter.
    """
    result: dict[Coordinates, int] = {}
    for topic, partition, offset in positions:
        nxt = offset + 1
        if result.get((topic, partition), -1) < nxt:
            result[(topic, partition)] = nxt
    return result


def as_topic_partitions(offsets: dict[Coordinates, int]) -> list[TopicPartition]:
    return [TopicPartition(topic, partition, offset) for (topic, partition), offset in sorted(offsets.items())]
