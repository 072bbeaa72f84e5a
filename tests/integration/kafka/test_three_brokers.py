"""Three brokers, replication 3, min.insync.replicas 2: losing a broker mid-produce loses nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient, NewTopic

from aios.kafka.producer import ReliableProducer
from aios.stack.kafka import KafkaCluster
from tests.support.kafka_io import at_least, read_topic, value_of
from tests.support.private_stack import private_settings

RECORDS = 10_000


@pytest.fixture(scope="module")
def three_brokers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaCluster]:
    """A second, private cluster on other ports, so the session's stack is left alone.

    Its ports (30592, 30692, 30792 and controllers one above) sit below Linux's ephemeral range
    (32768+): a broker once failed to bind 39192 because a client connection had it as its own port.
    """
    settings = private_settings(Path(tmp_path_factory.mktemp("three-brokers")), kafka_port=30592, kafka_heap="384m")
    cluster = KafkaCluster(settings, brokers=3)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()  # also after a failed start: no broker outlives the test


@pytest.mark.chaos
def test_killing_a_broker_during_acks_all_produce_loses_nothing(three_brokers: KafkaCluster) -> None:
    admin = AdminClient(three_brokers.client_config())
    topic = "chaos.acks-all"
    config = {"min.insync.replicas": "2"}
    admin.create_topics([NewTopic(topic, 6, 3, config=config)])[topic].result(timeout=30)

    producer = ReliableProducer(three_brokers.bootstrap, client_id="chaos")
    victim = three_brokers.nodes[1]
    killed = False
    acked_before_kill = 0
    for n in range(RECORDS):
        producer.produce(topic, value=f"record-{n}".encode(), key=str(n).encode())
        if n % 100 == 0:
            producer._producer.poll(0)
        if not killed and n >= 3_000:
            producer._producer.flush(30)
            acked_before_kill = sum(producer.acknowledged.values())
            three_brokers.process(victim).kill()
            killed = True
    producer.flush(timeout_s=180)

    assert 0 < acked_before_kill < RECORDS
    assert three_brokers.running() == [True, False, True]
    records = read_topic(three_brokers.bootstrap, topic, at_least(RECORDS), timeout_s=120)
    assert {value_of(m).decode() for m in records} == {f"record-{n}" for n in range(RECORDS)}
