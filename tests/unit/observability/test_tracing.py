"""Tracing configuration: spans under the incoming context, waits as links, OTLP export only when configured."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from aios.observability.tracing import (
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


@pytest.fixture
def exported() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    configure_tracing("unit", TracingSettings(), exporter)
    yield exporter
    configure_tracing("unit", TracingSettings())


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
    assert classify.parent.span_id == ingest.context.span_id
    assert decide.parent.span_id == classify.context.span_id
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
    assert verdict.parent.span_id == request.context.span_id
    (link,) = verdict.links
    assert link.context.span_id == request.context.span_id and link.attributes[WAIT_LINK] == "review"
    assert after["traceparent"].split("-")[2] == format(verdict.context.span_id, "016x")


def test_malformed_context_starts_a_new_trace_rather_than_failing(exported: InMemorySpanExporter) -> None:
    with resumed_span("review", "review verdict", {"traceparent": "garbage"}, "review"):
        pass
    (span,) = exported.get_finished_spans()
    assert span.parent is None and not span.links


def test_without_an_endpoint_nothing_is_exported() -> None:
    provider = configure_tracing("unit", TracingSettings())
    processors = provider._active_span_processor._span_processors
    assert processors == ()


class Collector(BaseHTTPRequestHandler):
    received: list[ExportTraceServiceRequest] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        Collector.received.append(request)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()
        self.wfile.write(b"")

    def log_message(self, *args: object) -> None:
        pass


def test_spans_reach_an_otlp_collector_when_an_endpoint_is_set() -> None:
    server = HTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        provider = configure_tracing("unit", TracingSettings(otlp_endpoint=f"http://127.0.0.1:{server.server_port}"))
        assert any(isinstance(p, BatchSpanProcessor) for p in provider._active_span_processor._span_processors)
        with span_from("classify", "classify process", {}):
            pass
        flush_tracing()
    finally:
        server.shutdown()
        configure_tracing("unit", TracingSettings())
    spans = [
        (resource.resource, span)
        for request in Collector.received
        for resource in request.resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    ]
    assert [span.name for _, span in spans] == ["classify process"]
    attributes = {a.key: a.value.string_value for a in spans[0][0].attributes}
    assert attributes["service.name"] == "aios-unit"
