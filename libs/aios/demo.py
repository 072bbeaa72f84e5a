"""`make demo`: start the stack, send a few business events as Avro records and read them back.

Until the pipeline services exist this shows the foundation they share: the stack, the topic
catalogue, registry-encoded records in the Confluent wire format and trace context in headers.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from confluent_kafka import Consumer, TopicPartition
from rich.console import Console
from rich.table import Table

from aios.kafka.producer import ReliableProducer
from aios.observability.tracing import carrier_to_headers, new_trace_carrier
from aios.schemas.catalog import subject_for
from aios.schemas.serde import Codecs
from aios.stack.stack import LocalStack

TOPIC = "aios.events.received"
SAMPLE_TEXTS = (
    "I was charged twice for my subscription this month",
    "please reset my online banking password",
    "what is the status of my order 1182?",
    "the invoice total does not match the quote we signed",
    "cancel my appointment tomorrow at 10",
)


def run_demo() -> None:
    console = Console()
    stack = LocalStack()
    with console.status("starting the local stack") as status:
        stack.up(on_step=lambda step: status.update(step))
    endpoints = stack.endpoints()
    console.print(
        f"[bold]stack[/] {endpoints['broker']} at {endpoints['kafka_bootstrap']}, "
        f"registry {endpoints['schema_registry_url']}"
    )

    codecs = Codecs(endpoints["schema_registry_url"])
    consumer = Consumer(
        {
            "bootstrap.servers": endpoints["kafka_bootstrap"],
            "group.id": f"aios-demo-{uuid.uuid4().hex[:6]}",
            "enable.auto.commit": False,
        }
    )
    consumer.assign(_current_ends(consumer))
    producer = ReliableProducer(endpoints["kafka_bootstrap"], client_id="aios-demo")
    tenant = f"demo-{uuid.uuid4().hex[:6]}"
    sent = []
    for text in SAMPLE_TEXTS:
        carrier = new_trace_carrier("demo", "demo event")
        now = datetime.now(UTC)
        value = {
            "event_id": str(uuid.uuid4()),
            "tenant_id": tenant,
            "occurred_at": now,
            "type": "support.ticket",
            "text": text,
            "attributes": {"channel": "demo"},
            "received_at": now,
            "source": "api",
            "source_ref": None,
            "idempotency_key": None,
            "trace": {"traceparent": carrier["traceparent"], "tracestate": None},
        }
        producer.produce(TOPIC, codecs.encode(TOPIC, value), key=tenant, headers=carrier_to_headers(carrier))
        sent.append(value["event_id"])
    acknowledged = producer.flush()
    console.print(
        f"[bold]produced[/] {acknowledged[TOPIC]} records to {TOPIC} (acks=all, schema subject {subject_for(TOPIC)})"
    )

    received = _read_back(consumer, codecs, set(sent))
    table = Table("partition", "offset", "event_id", "text", "traceparent", title=f"read back from {TOPIC}")
    for partition, offset, value, traceparent in received:
        table.add_row(str(partition), str(offset), value["event_id"][:8], value["text"], traceparent)
    console.print(table)
    console.print("[green]demo done[/]: `aios stack status` shows the stack, `aios stack down` stops it")


def _current_ends(consumer: Consumer) -> list[TopicPartition]:
    """Each partition of the topic at its high watermark: where the demo's records will land."""
    partitions = consumer.list_topics(TOPIC, timeout=10).topics[TOPIC].partitions
    ends = []
    for partition in partitions:
        _, high = consumer.get_watermark_offsets(TopicPartition(TOPIC, partition), timeout=10)
        ends.append(TopicPartition(TOPIC, partition, high))
    return ends


def _read_back(consumer: Consumer, codecs: Codecs, wanted: set[str]) -> list[tuple[int, int, dict, str]]:
    found: list[tuple[int, int, dict, str]] = []
    try:
        for _ in range(60):
            for message in consumer.consume(500, 0.5):
                if message.error() is not None:
                    continue
                value = codecs.decode(TOPIC, message.value())
                if value["event_id"] in wanted:
                    headers = dict(message.headers() or [])
                    found.append((message.partition(), message.offset(), value, headers["traceparent"].decode()))
            if len(found) == len(wanted):
                break
    finally:
        consumer.close()
    return found
