"""Consumer lag read from the broker: committed offsets against high watermarks, whether or not anyone consumes."""

from __future__ import annotations

import uuid

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from prometheus_client import REGISTRY

from aios.kafka.clients import kafka_config
from aios.lag.exporter import BrokerLag, LagExporter
from aios.settings import ConnectionSettings
from tests.integration.conftest import TopicFactory


def commit(bootstrap: str, group: str, topic: str, offsets: dict[int, int]) -> None:
    """Commit `offsets` (partition -> next offset to read) for `group`, then leave: nobody consumes afterwards."""
    consumer = Consumer({**kafka_config(bootstrap), "group.id": group, "enable.auto.commit": False})
    try:
        consumer.commit(offsets=[TopicPartition(topic, p, o) for p, o in offsets.items()], asynchronous=False)
    finally:
        consumer.close()


def exported(group: str, topic: str, partition: int) -> float | None:
    return REGISTRY.get_sample_value(
        "aios_kafka_consumer_group_lag", {"group": group, "topic": topic, "partition": str(partition)}
    )


def produce_to(bootstrap: str, topic: str, partition: int, count: int) -> None:
    producer = Producer({**kafka_config(bootstrap), "acks": "all"})
    for i in range(count):
        producer.produce(topic, value=b"v%d" % i, partition=partition)
    assert producer.flush(30) == 0


def test_lag_is_the_high_watermark_less_the_committed_offset_per_partition(
    connection: ConnectionSettings, topics: TopicFactory, group_id: str
) -> None:
    bootstrap = connection.kafka_bootstrap
    topic = topics("aios.events.received", partitions=2)
    produce_to(bootstrap, topic, 0, 10)
    produce_to(bootstrap, topic, 1, 3)
    lag = BrokerLag(bootstrap, groups=group_id)
    assert lag.measure() == {}  # the group has committed nothing yet

    commit(bootstrap, group_id, topic, {0: 4, 1: 3})
    assert lag.measure() == {(group_id, topic, 0): 6, (group_id, topic, 1): 0}


def test_lag_grows_while_nothing_consumes_and_the_gauges_follow(
    connection: ConnectionSettings, topics: TopicFactory, group_id: str
) -> None:
    bootstrap = connection.kafka_bootstrap
    topic = topics("aios.events.received", partitions=1)
    produce_to(bootstrap, topic, 0, 10)
    commit(bootstrap, group_id, topic, {0: 10})
    exporter = LagExporter(BrokerLag(bootstrap, groups=group_id), interval_s=1)

    assert exporter.refresh() == {(group_id, topic, 0): 0}
    assert exported(group_id, topic, 0) == 0

    produce_to(bootstrap, topic, 0, 7)  # nobody consumes
    exporter.refresh()
    assert exported(group_id, topic, 0) == 7

    commit(bootstrap, group_id, topic, {0: 17})
    exporter.refresh()
    assert exported(group_id, topic, 0) == 0


def test_groups_outside_the_pattern_and_deleted_topics_are_not_reported(
    connection: ConnectionSettings, topics: TopicFactory, group_id: str
) -> None:
    bootstrap = connection.kafka_bootstrap
    topic = topics("aios.events.received", partitions=1)
    produce_to(bootstrap, topic, 0, 1)
    commit(bootstrap, group_id, topic, {0: 0})
    commit(bootstrap, f"{group_id}-ignored", topic, {0: 0})
    assert set(BrokerLag(bootstrap, groups=group_id).measure()) == {(group_id, topic, 0)}
    assert BrokerLag(bootstrap, groups="nothing-matches-this").measure() == {}

    admin = AdminClient(kafka_config(bootstrap))
    gone = f"lag-gone-{uuid.uuid4().hex[:8]}"
    admin.create_topics([NewTopic(gone, 1, 1)])[gone].result(30)
    produce_to(bootstrap, gone, 0, 2)
    commit(bootstrap, group_id, gone, {0: 1})
    assert BrokerLag(bootstrap, groups=group_id).measure()[(group_id, gone, 0)] == 1
    admin.delete_topics([gone])[gone].result(30)
    assert set(BrokerLag(bootstrap, groups=group_id).measure()) == {(group_id, topic, 0)}
