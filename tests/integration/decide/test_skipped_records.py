"""Reading records Faust skipped straight from the broker: exactly the offsets asked for, in order."""

from __future__ import annotations

import asyncio
import uuid

from confluent_kafka import Consumer, TopicPartition
from faust.types import TP, Message

from aios.decide.gaps import ReadingGapGuard, committed_offset, read_skipped
from aios.kafka.clients import kafka_config
from aios.settings import ConnectionSettings
from tests.support.decide import TopicFactory
from tests.support.kafka_io import produce_raw


def test_the_skipped_offsets_are_read_and_nothing_else(connection: ConnectionSettings, topics: TopicFactory) -> None:
    topic = topics("aios.events.enriched", partitions=1)
    produce_raw(connection.kafka_bootstrap, topic, [(None, f"record {i}".encode()) for i in range(10)])
    found = asyncio.run(read_skipped(connection.kafka_bootstrap, topic, 0, 3, 7))
    assert [(m.offset, m.value) for m in found] == [(i, f"record {i}".encode()) for i in range(3, 7)]


def test_the_guard_hands_the_agent_what_faust_skipped_before_the_record_in_hand(
    connection: ConnectionSettings, topics: TopicFactory
) -> None:
    topic = topics("aios.events.enriched", partitions=1)
    produce_raw(connection.kafka_bootstrap, topic, [(b"k", f"record {i}".encode()) for i in range(10)])
    guard = ReadingGapGuard(connection.kafka_bootstrap, "decide", group=f"never-committed-{uuid.uuid4().hex[:8]}")
    assert asyncio.run(skipped(guard, topic, 1, 2, 6, 7)) == [[], [], [record(3), record(4), record(5)], []]


def test_a_record_lost_right_where_the_group_resumes_is_read(
    connection: ConnectionSettings, topics: TopicFactory
) -> None:
    """After a restart Faust resumes at the committed offset; when that very record never reaches the
    agent (and Faust commits past it), the first record delivered is already past the one expected."""
    topic = topics("aios.events.enriched", partitions=1)
    produce_raw(connection.kafka_bootstrap, topic, [(b"k", f"record {i}".encode()) for i in range(10)])
    group = f"decide-{uuid.uuid4().hex[:8]}"
    commit(connection.kafka_bootstrap, group, TopicPartition(topic, 0, 4))
    assert committed_offset(connection.kafka_bootstrap, group, topic, 0) == 4
    guard = ReadingGapGuard(connection.kafka_bootstrap, "decide", group=group)
    assert asyncio.run(skipped(guard, topic, 5, 6)) == [[record(4)], []]
    guard.forget()  # a rebalance: the partition is resumed at the committed offset again
    assert asyncio.run(skipped(guard, topic, 4, 5)) == [[], []]


def record(offset: int) -> tuple[bytes, int]:
    return f"record {offset}".encode(), offset


def delivered(topic: str, offset: int) -> Message:
    """A record as Faust hands it to an agent."""
    value = f"record {offset}".encode()
    return Message(topic, 0, offset, 0.0, 0, [], b"k", value, None, tp=TP(topic, 0))


async def skipped(guard: ReadingGapGuard, topic: str, *offsets: int) -> list[list[tuple[bytes | None, int]]]:
    """What the guard hands the agent before each of these records, delivered in turn."""
    return [[(r.value, o) for r, o in await guard.skipped_before(delivered(topic, offset))] for offset in offsets]


def commit(bootstrap: str, group: str, position: TopicPartition) -> None:
    consumer = Consumer({**kafka_config(bootstrap), "group.id": group, "enable.auto.commit": False})
    try:
        consumer.commit(offsets=[position], asynchronous=False)
    finally:
        consumer.close()
