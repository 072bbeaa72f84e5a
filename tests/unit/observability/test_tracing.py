"""Tracing configuration: spans under the incoming context, waits as links, OTLP export to the stack's Jaeger."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from aios.inference.triton_process import free_ports
from aios.observability.tracing import (
    EXPORT_LOGGERS,
    WAIT_LINK,
    TracingSettings,
    carrier_to_headers,
    configure_tracing,
    flush_tracing,
    headers_to_carrier,
    new_trace_carrier,
    resumed_span,
    span_from,
)
from aios.stack.jaeger import JaegerServer
from aios.stack.settings import StackSettings
from tests.support.otlp import OtlpCollector

OFF = TracingSettings(otlp_endpoint="")


@pytest.fixture
def exported() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    configure_tracing("unit", OFF, exporter)
    yield exporter
    configure_tracing("unit", OFF)


def test_each_hop_is_a_child_of_the_span_that_produced_its_input(exported: InMemorySpanExporter) -> None:
    start = new_trace_carrier("ingest", "ingest accept")
    headers = carrier_to_headers(start)
    with span_from("classify", "classify process", headers_to_carrier(headers)) as after_classify:
        pass
    with span_from("decide", "decide process", headers_to_carrier(dict(carrier_to_headers(after_classify)))):
        pass
    ingest, classify, decide = exported.get_finished_spans()
    assert {s.context.trace_id for s in (ingest, classify, decide)} == {ingest.context.trace_id}
    assert ingest.parent is None
    assert classify.parent is not None and classify.parent.span_id == ingest.context.span_id
    assert decide.parent is not None and decide.parent.span_id == classify.context.span_id
    assert classify.resource.attributes["service.name"] == "aios-unit"


def test_a_record_without_context_starts_a_trace(exported: InMemorySpanExporter) -> None:
    with span_from("audit", "audit process", {}):
        pass
    (span,) = exported.get_finished_spans()
    assert span.parent is None


def test_a_review_wait_is_a_link_in_the_same_trace_not_a_long_span(exported: InMemorySpanExporter) -> None:
    with span_from("review", "review store", {}) as stored:
        pass
    with resumed_span("review", "review verdict", stored, "review") as after:
        pass
    request, verdict = exported.get_finished_spans()
    assert verdict.context.trace_id == request.context.trace_id
    assert verdict.parent is not None and verdict.parent.span_id == request.context.span_id
    (link,) = verdict.links
    assert link.context.span_id == request.context.span_id
    assert link.attributes is not None and link.attributes[WAIT_LINK] == "review"
    assert after["traceparent"].split("-")[2] == format(verdict.context.span_id, "016x")


def test_malformed_context_starts_a_new_trace_rather_than_failing(exported: InMemorySpanExporter) -> None:
    with resumed_span("review", "review verdict", {"traceparent": "garbage"}, "review"):
        pass
    (span,) = exported.get_finished_spans()
    assert span.parent is None and not span.links


def test_by_default_spans_go_to_the_local_stack_s_jaeger() -> None:
    assert TracingSettings().otlp_endpoint == JaegerServer(StackSettings()).otlp_endpoint


def test_with_an_empty_endpoint_nothing_is_exported() -> None:
    provider = configure_tracing("unit", OFF)
    processors = provider._active_span_processor._span_processors
    assert processors == ()


def test_a_collector_that_is_down_never_holds_up_the_work(caplog: pytest.LogCaptureFixture) -> None:
    """No Jaeger listening (a stack started without it): spans end at once, flushing and shutdown are bounded,
    and the failure is logged once a minute, not at every retry of every batch."""
    (nothing_there,) = free_ports(1)
    down = TracingSettings(otlp_endpoint=f"http://127.0.0.1:{nothing_there}", export_timeout_s=1)
    configure_tracing("unit", down)
    try:
        started = time.monotonic()
        for _ in range(100):
            with span_from("classify", "classify process", {}):
                pass
        assert time.monotonic() - started < 1
        flush_tracing()
        assert time.monotonic() - started < 3
        with span_from("classify", "classify process", {}):  # a second batch fails too, and is not said again
            pass
        flush_tracing()
    finally:
        started = time.monotonic()
        configure_tracing("unit", OFF)  # shuts the failing exporter down
        assert time.monotonic() - started < 3
    said = Counter(r.name for r in caplog.records if r.name in EXPORT_LOGGERS)
    assert said and max(said.values()) == 1, [r.getMessage() for r in caplog.records]


def test_spans_reach_an_otlp_collector_when_an_endpoint_is_set() -> None:
    collector = OtlpCollector()
    try:
        provider = configure_tracing("unit", TracingSettings(otlp_endpoint=collector.url))
        assert any(isinstance(p, BatchSpanProcessor) for p in provider._active_span_processor._span_processors)
        with span_from("classify", "classify process", {}):
            pass
        flush_tracing()
    finally:
        collector.close()
        configure_tracing("unit", OFF)
    assert [(s.service, s.name) for s in collector.spans] == [("aios-unit", "classify process")]
