"""The consumer loop's spans and timings, in process with an in-memory exporter, across real topics.

Two loops chained through Kafka (A → first → B → second → C): the trace context travels only in the
records' headers, so each loop's span for a record must be the child of the span that produced it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import cast

import pytest
from confluent_kafka import Producer
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode
from opentelemetry.util.types import AttributeValue
from prometheus_client import REGISTRY

from aios.kafka.clients import kafka_config
from aios.kafka.loop import ConsumerLoop, LoopSettings
from aios.kafka.producer import ClientHeaders
from aios.kafka.serde import Codecs
from aios.observability.tracing import TracingSettings, carrier_to_headers, configure_tracing, new_trace_carrier
from aios.settings import ConnectionSettings
from tests.integration.conftest import TopicFactory
from tests.support.copy_worker import EVENTS, copy_handler
from tests.support.events import event


@pytest.fixture
def exported() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    configure_tracing("loop-test", TracingSettings(otlp_endpoint=""), exporter)
    yield exporter
    configure_tracing("loop-test", TracingSettings(otlp_endpoint=""))


def attribute(span: ReadableSpan, name: str) -> AttributeValue:
    """One attribute of a span that the test expects to carry attributes."""
    assert span.attributes is not None, f"span {span.name!r} has no attributes"
    return span.attributes[name]


def loop(service: str, source: str, sink: str, deadletter: str, connection: ConnectionSettings) -> ConsumerLoop:
    carries = {source: EVENTS, sink: EVENTS, deadletter: "aios.deadletter"}
    codecs = Codecs(connection.schema_registry_url, carries=carries)
    settings = LoopSettings(max_wait_ms=100, handler_retries=0, retry_backoff_ms=1, deadletter_topic=deadletter)
    return ConsumerLoop(
        service,
        f"{service}-{uuid.uuid4().hex[:8]}",
        [source],
        copy_handler(sink),
        connection=connection,
        settings=settings,
        codecs=codecs,
    )


def test_each_hop_is_the_child_of_the_span_that_produced_its_input(
    exported: InMemorySpanExporter, topics: TopicFactory, connection: ConnectionSettings
) -> None:
    a, b, c = topics(EVENTS), topics(EVENTS), topics(EVENTS)
    dead = topics("aios.deadletter", partitions=1)
    first = loop(f"first-{uuid.uuid4().hex[:6]}", a, b, dead, connection)
    second = loop(f"second-{uuid.uuid4().hex[:6]}", b, c, dead, connection)
    codecs = Codecs(connection.schema_registry_url, carries={a: EVENTS})
    good, bad = event("my card was charged twice"), event("explode")
    started = new_trace_carrier("ingest", "ingest accept")
    producer = Producer(kafka_config(connection.kafka_bootstrap))
    for value in (good, bad):
        headers = cast(ClientHeaders, carrier_to_headers(started))  # the stubs' list is invariant, see ClientHeaders
        producer.produce(a, codecs.encode(a, value), key=value["event_id"], headers=headers)
    assert producer.flush(30) == 0

    for consumer_loop in (first, second):
        consumer_loop.subscribe()
    deadline = time.monotonic() + 60
    handled = {first.service: 0, second.service: 0}
    while handled[first.service] < 2 or handled[second.service] < 1:
        assert time.monotonic() < deadline, handled
        for consumer_loop in (first, second):
            handled[consumer_loop.service] += consumer_loop.run_once().consumed
    first.close()
    second.close()

    spans = exported.get_finished_spans()
    (root,) = [s for s in spans if s.name == "ingest accept"]
    ours = [s for s in spans if s.name.endswith(" process")]
    assert {s.context.trace_id for s in ours} == {root.context.trace_id}  # one trace, through two topics

    by_event = {(s.name, attribute(s, "aios.event_id")): s for s in ours}
    hop1 = by_event[(f"{first.service} process", good["event_id"])]
    hop2 = by_event[(f"{second.service} process", good["event_id"])]
    assert hop1.parent is not None and hop1.parent.span_id == root.context.span_id
    assert hop2.parent is not None and hop2.parent.span_id == hop1.context.span_id
    assert attribute(hop1, "messaging.destination.name") == a and attribute(hop2, "messaging.destination.name") == b
    assert hop1.status.status_code is StatusCode.UNSET

    # The record the handler failed on is dead-lettered; its span says so, under the same trace.
    failed = by_event[(f"{first.service} process", bad["event_id"])]
    assert failed.status.status_code is StatusCode.ERROR
    assert bad["event_id"] in (failed.status.description or "")  # the reason it was dead-lettered
    assert (f"{second.service} process", bad["event_id"]) not in by_event

    # The loop timed both records from their occurrence, and the batch it gathered.
    labels = {"service": first.service, "topic": a}
    assert REGISTRY.get_sample_value("aios_end_to_end_seconds_count", labels) == 2
    assert REGISTRY.get_sample_value("aios_consume_delay_seconds_count", labels) == 2
    batches = REGISTRY.get_sample_value("aios_batch_wait_seconds_count", {"service": first.service})
    assert batches is not None and batches >= 1
