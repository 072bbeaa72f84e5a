"""Reading and writing test topics directly with confluent-kafka, independent of the loop under test."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import pytest
from confluent_kafka import Consumer, Message, Producer
from confluent_kafka.error import SerializationError

from aios.kafka.clients import kafka_config
from aios.kafka.serde import Codecs

log = logging.getLogger(__name__)


def read_topic(
    bootstrap: str,
    topic: str,
    until: Callable[[list[Message]], bool],
    timeout_s: float = 60.0,
    config: dict[str, Any] | None = None,
) -> list[Message]:
    """Every record of `topic` from the beginning, read until `until(records)` holds or time runs out.

    `config` replaces the consumer's own (the admin's, in a throwaway group): to read as another principal.
    """
    consumer = Consumer(
        config
        or {
            **kafka_config(bootstrap),
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


def decoded_values(codecs: Codecs, topic: str, messages: Iterable[Message]) -> list[dict[str, Any]]:
    """The values that decode; an undecodable record is reported with its place and skipped, as any reader
    of a shared topic must (anyone with write access can put one there)."""
    values = []
    for message in messages:
        try:
            values.append(codecs.decode(topic, message.value() or b""))
        except SerializationError as exc:
            log.warning(
                "%s[%s]@%s: undecodable, skipped: %s", message.topic(), message.partition(), message.offset(), exc
            )
    return values


def at_least(count: int) -> Callable[[list[Message]], bool]:
    return lambda records: len(records) >= count


def produce_raw(bootstrap: str, topic: str, values: Sequence[tuple[bytes | None, bytes]]) -> None:
    producer = Producer({**kafka_config(bootstrap), "acks": "all", "enable.idempotence": True})
    for key, value in values:
        producer.produce(topic, key=key, value=value)
    assert producer.flush(60) == 0


def value_of(message: Message) -> bytes:
    """The record's value; a record without one (a tombstone) fails the test, saying where it sits."""
    value = message.value()
    if value is None:
        pytest.fail(f"no value in the record at {message.topic()}[{message.partition()}]@{message.offset()}")
    return value
