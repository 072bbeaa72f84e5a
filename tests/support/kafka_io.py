"""Reading and writing test topics directly with confluent-kafka, independent of the loop under test."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence

import pytest
from confluent_kafka import Consumer, Message, Producer


def read_topic(
    bootstrap: str,
    topic: str,
    until: Callable[[list[Message]], bool],
    timeout_s: float = 60.0,
) -> list[Message]:
    """Every record of `topic` from the beginning, read until `until(records)` holds or time runs out."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"reader-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    records: list[Message] = []
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline and not until(records):
            for message in consumer.consume(1000, 0.5):
                if message.error() is None:
                    records.append(message)
    finally:
        consumer.close()
    return records


def at_least(count: int) -> Callable[[list[Message]], bool]:
    return lambda records: len(records) >= count


def produce_raw(bootstrap: str, topic: str, values: Sequence[tuple[bytes | None, bytes]]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True})
    for key, value in values:
        producer.produce(topic, key=key, value=value)
    assert producer.flush(60) == 0


def value_of(message: Message) -> bytes:
    """The record's value; a record without one (a tombstone) fails the test, saying where it sits."""
    value = message.value()
    if value is None:
        pytest.fail(f"no value in the record at {message.topic()}[{message.partition()}]@{message.offset()}")
    return value
