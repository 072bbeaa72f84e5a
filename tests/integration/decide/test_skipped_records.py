"""Reading records Faust skipped straight from the broker: exactly the offsets asked for, in order."""

from __future__ import annotations

import asyncio

from faust.types import TP, Message

from aios.decide.gaps import ReadingGapGuard, read_skipped
from aios.settings import ConnectionSettings
from tests.support.decide import TopicFactory
from tests.support.kafka_io import produce_raw


def test_the_skipped_offsets_are_read_and_nothing_else(connection: ConnectionSettings, topics: TopicFactory) -> None:
    topic = topics("aios.events.enriched", partitions=1)
    produce_raw(connection.kafka_bootstrap, topic, [(None, f"record {i}".encode()) for i in range(10)])
    found = read_skipped(connection.kafka_bootstrap, topic, 0, 3, 7)
    assert [(m.offset(), m.value()) for m in found] == [(i, f"record {i}".encode()) for i in range(3, 7)]


def test_the_guard_hands_the_agent_what_faust_skipped_before_the_record_in_hand(
    connection: ConnectionSettings, topics: TopicFactory
) -> None:
    topic = topics("aios.events.enriched", partitions=1)
    produce_raw(connection.kafka_bootstrap, topic, [(b"k", f"record {i}".encode()) for i in range(10)])
    guard = ReadingGapGuard(connection.kafka_bootstrap, "decide")

    def delivered(offset: int) -> Message:
        """A record as Faust hands it to an agent."""
        value = f"record {offset}".encode()
        return Message(topic, 0, offset, 0.0, 0, [], b"k", value, None, tp=TP(topic, 0))

    async def skipped(*offsets: int) -> list[list[tuple[bytes | None, int]]]:
        return [[(r.value, o) for r, o in await guard.skipped_before(delivered(offset))] for offset in offsets]

    assert asyncio.run(skipped(1, 2, 6, 7)) == [[], [], [(f"record {i}".encode(), i) for i in (3, 4, 5)], []]
