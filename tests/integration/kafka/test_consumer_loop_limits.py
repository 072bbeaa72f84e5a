"""Records too large to pass on: dead-lettered unread and kept only as a hash, so the loop never stalls on one.

A record just under Kafka's message limit (1 MB) is valid, but its output (or a dead letter holding
a copy) is over it: producing that raised, the loop stopped, and the restarted service met the
same record again.
"""

from __future__ import annotations

import hashlib

import pytest
from confluent_kafka import Producer

from aios.kafka.clients import kafka_config
from aios.kafka.serde import Codecs
from aios.settings import ConnectionSettings
from tests.integration.conftest import TopicFactory
from tests.integration.kafka.test_consumer_loop import encoded_events, run_copy_worker
from tests.support.copy_worker import EVENTS
from tests.support.events import event
from tests.support.kafka_io import value_of

pytestmark = pytest.mark.fuzz


def test_a_record_above_the_limit_is_dead_lettered_as_too_large_and_the_next_one_is_handled(
    topics: TopicFactory, group_id: str, connection: ConnectionSettings
) -> None:
    source, sink, deadletter = topics(EVENTS, partitions=1), topics(EVENTS), topics("aios.deadletter", 1)
    codecs = Codecs(connection.schema_registry_url, {source: EVENTS, sink: EVENTS, deadletter: "aios.deadletter"})
    huge = codecs.encode(source, event("x" * 999_000))
    good = event("after the huge one")
    producer = Producer({**kafka_config(connection.kafka_bootstrap), "message.max.bytes": 1_048_000})
    for key, value in [(b"huge", huge), *encoded_events(codecs, source, [good])]:
        producer.produce(source, value=value, key=key)
    assert producer.flush(30) == 0

    outputs, dead = run_copy_worker(source, sink, deadletter, group_id, connection, 1, 1)

    assert [codecs.decode(sink, value_of(m))["event_id"] for m in outputs] == [good["event_id"]]
    letter = codecs.decode(deadletter, value_of(dead[0]))
    assert letter["error_kind"] == "too-large"
    assert f"{len(huge) + len(b'huge')} bytes, above the limit of 524288" in letter["reason"]
    assert letter["original_value"] is None and letter["original_key"] is None
    assert hashlib.sha256(huge).hexdigest()[:32] in letter["reason"]
    assert len(value_of(dead[0])) < 10_000
