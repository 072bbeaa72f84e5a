"""Records no service can use, produced straight onto a pipeline's topics, and the dead letters they must become.

Kinds: `garbage` (random bytes, no wire-format header), `unknown-schema` (the header names a
schema id the registry does not have), `truncated` (a valid record of the topic cut short),
`wrong-schema` (a valid record of another topic's type, with that type's registered id), `empty`
(a null value and an empty one), `oversized` (a valid record of the topic's own type, about 1 MB:
above any record ingest could have caused, just under Kafka's message limit).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any

from confluent_kafka import KafkaError, Message, Producer

from aios.kafka.clients import kafka_config
from aios.kafka.subjects import schema_for
from tests.support.avro_examples import example_value
from tests.support.pipeline import INPUTS, PIPELINE_TOPICS, Pipeline

KINDS = ("garbage", "unknown-schema", "truncated", "wrong-schema", "empty", "oversized")
OVERSIZED_BYTES = 1_000_000
OTHER_TYPE = {name: "decisions" if name == "received" else "received" for name in PIPELINE_TOPICS}
"""A topic whose records are of another type than `name`'s."""


@dataclass(frozen=True)
class BadRecord:
    topic: str
    """Short name (`PIPELINE_TOPICS`)."""
    kind: str
    value: bytes | None
    partition: int = -1
    offset: int = -1


def readers(topic: str) -> set[str]:
    """The services that consume `topic` (short name), each of which must dead-letter a bad record of it."""
    return {service for service, inputs in INPUTS.items() if topic in inputs}


def _example(pipeline: Pipeline, name: str, text_bytes: int = 0) -> bytes:
    schema = json.loads(schema_for(PIPELINE_TOPICS[name]).text)
    value: dict[str, Any] = example_value(schema)
    if text_bytes:
        field = next(f for f in ("text", "reason", "error") if f in value)
        value[field] = "x" * text_bytes
    return pipeline.codecs.encode(pipeline.topics[name], value)


def make_bad_records(pipeline: Pipeline, per_kind: int = 1, seed: int = 0) -> list[BadRecord]:
    rng = random.Random(seed)
    records: list[BadRecord] = []
    for name in PIPELINE_TOPICS:
        valid = _example(pipeline, name)
        for _ in range(per_kind):
            cut = rng.randint(5, len(valid) - 1)
            values: dict[str, list[bytes | None]] = {
                "garbage": [bytes([rng.randint(1, 255)]) + rng.randbytes(rng.randint(0, 400))],
                "unknown-schema": [b"\x00" + rng.randint(10**9, 2**31 - 1).to_bytes(4, "big") + rng.randbytes(40)],
                "truncated": [valid[:cut]],
                "wrong-schema": [_example(pipeline, OTHER_TYPE[name])],
                "empty": [None, b""],
                "oversized": [_example(pipeline, name, OVERSIZED_BYTES)],
            }
            records.extend(BadRecord(name, kind, value) for kind in KINDS for value in values[kind])
    return records


def produce_bad_records(pipeline: Pipeline, records: list[BadRecord]) -> list[BadRecord]:
    """Produce each record with a random key; the records with the partition and offset they got."""
    producer = Producer(
        {
            **kafka_config(pipeline.connection.kafka_bootstrap),
            "acks": "all",
            "enable.idempotence": True,
            "compression.type": "lz4",
            "message.max.bytes": 1_048_000,
        }
    )
    placed: dict[int, BadRecord] = {}

    def delivered(index: int, record: BadRecord) -> Any:
        def report(error: KafkaError | None, message: Message) -> None:
            assert error is None, error
            partition, offset = message.partition(), message.offset()
            assert partition is not None and offset is not None, "an acknowledged record has its place"
            placed[index] = BadRecord(record.topic, record.kind, record.value, partition, offset)

        return report

    for index, record in enumerate(records):
        topic, key = pipeline.topics[record.topic], random.randbytes(8)
        producer.produce(topic, value=record.value, key=key, on_delivery=delivered(index, record))
        producer.poll(0)
    assert producer.flush(60) == 0
    return [placed[index] for index in range(len(records))]


def missing_dead_letters(pipeline: Pipeline, records: list[BadRecord]) -> list[tuple[BadRecord, str]]:
    """(record, service) for each bad record a consuming service has not dead-lettered with a reason yet."""
    found = {
        (d["original_topic"], d["original_partition"], d["original_offset"], d["service"])
        for d in pipeline.tail.values("deadletter")
        if d["reason"].strip()
    }
    return [
        (record, service)
        for record in records
        for service in sorted(readers(record.topic))
        if (pipeline.topics[record.topic], record.partition, record.offset, service) not in found
    ]
