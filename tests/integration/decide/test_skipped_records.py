"""Reading records Faust skipped straight from the broker: exactly the offsets asked for, in order."""

from __future__ import annotations

from aios.decide.gaps import read_skipped
from aios.settings import ConnectionSettings
from tests.support.decide import TopicFactory
from tests.support.kafka_io import produce_raw


def test_the_skipped_offsets_are_read_and_nothing_else(connection: ConnectionSettings, topics: TopicFactory) -> None:
    topic = topics("aios.events.enriched", partitions=1)
    produce_raw(connection.kafka_bootstrap, topic, [(None, f"record {i}".encode()) for i in range(10)])
    found = read_skipped(connection.kafka_bootstrap, topic, 0, 3, 7)
    assert [(m.offset(), m.value()) for m in found] == [(i, f"record {i}".encode()) for i in range(3, 7)]
