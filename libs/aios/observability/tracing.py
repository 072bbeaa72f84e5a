"""Traces across Kafka: W3C context in record headers, one span per record per service.

Every service calls `configure_tracing(service)` once at start: spans go to the OTLP collector of
`AIOS_TRACING_OTLP_ENDPOINT`, by default the local stack's Jaeger, in the background (a collector that
is down costs lost spans and a log line, never a stalled service). A record's span is the child
of the span that produced it (its `traceparent` header), so one event is one trace from ingest
to audit. A wait of hours (a human review) is no span: the span that resumes the work is
linked to the one that started the wait (`resumed_span`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Literal

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from aios.settings import LOCAL_JAEGER_OTLP_PORT

TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"
WAIT_LINK = "aios.link"
"""Attribute of a link that stands for a wait (`review`): the linked span ended when the wait began."""

_propagator = TraceContextTextMapPropagator()


class TracingSettings(BaseSettings):
    """Where spans go, read from `AIOS_TRACING_*` variables; with an empty endpoint nothing is exported."""

    model_config = SettingsConfigDict(env_prefix="AIOS_TRACING_", extra="ignore", frozen=True)

    otlp_endpoint: str | None = Field(
        default=f"http://127.0.0.1:{LOCAL_JAEGER_OTLP_PORT}",
        description="OTLP collector, e.g. http://127.0.0.1:4318 (http/protobuf) or http://127.0.0.1:4317 (grpc); "
        "the default is the local stack's Jaeger. Empty: spans are made (the context still travels) but not exported.",
    )
    otlp_protocol: Literal["http/protobuf", "grpc"] = Field(
        default="http/protobuf", description="OTLP transport of the collector."
    )
    export_timeout_s: float = Field(
        default=5.0,
        gt=0,
        description="How long one export (retries included) may try; bounds a flush and the exit when the "
        "collector is down.",
    )
    sample_ratio: float = Field(
        default=1.0, ge=0, le=1, description="Share of new traces recorded; a record's trace follows its parent."
    )


class _Tracing:
    """The process's tracer provider (one per process: every span of a service shares its resource)."""

    def __init__(self) -> None:
        self.provider = TracerProvider()
        self.tracers: dict[str, trace.Tracer] = {}

    def replace(self, provider: TracerProvider) -> None:
        old, self.provider, self.tracers = self.provider, provider, {}
        old.shutdown()


_tracing = _Tracing()


def configure_tracing(
    service: str, settings: TracingSettings | None = None, exporter: SpanExporter | None = None
) -> TracerProvider:
    """Spans of this process under `service.name = aios-<service>`, exported as `settings` say.

    `exporter` (tests: an in-memory exporter) receives every span as it ends, besides OTLP.
    """
    settings = settings or TracingSettings()
    provider = TracerProvider(
        resource=Resource.create({"service.name": f"aios-{service}", "service.namespace": "aios"}),
        sampler=ParentBased(TraceIdRatioBased(settings.sample_ratio)),
    )
    if settings.otlp_endpoint:
        _quiet_export_errors()
        provider.add_span_processor(BatchSpanProcessor(_otlp_exporter(settings)))
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    _tracing.replace(provider)
    return provider


EXPORT_LOGGERS = (
    "opentelemetry.exporter.otlp.proto.http.trace_exporter",
    "opentelemetry.exporter.otlp.proto.grpc.exporter",
    "opentelemetry.sdk._shared_internal",
)
"""Where OpenTelemetry logs failed exports: a retry line and a failure line per batch while the collector is down."""


class _OncePerInterval(logging.Filter):
    """Lets one record through per `interval_s`: a collector that is down is said, not repeated every batch."""

    def __init__(self, interval_s: float) -> None:
        super().__init__()
        self.interval_s = interval_s
        self.last: float | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        if self.last is not None and record.created - self.last < self.interval_s:
            return False
        self.last = record.created
        return True


def _quiet_export_errors(interval_s: float = 60.0) -> None:
    for name in EXPORT_LOGGERS:
        exporter_log = logging.getLogger(name)
        if not any(isinstance(f, _OncePerInterval) for f in exporter_log.filters):
            exporter_log.addFilter(_OncePerInterval(interval_s))


def _otlp_exporter(settings: TracingSettings) -> SpanExporter:
    endpoint = (settings.otlp_endpoint or "").rstrip("/")
    if settings.otlp_protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter

        return GrpcExporter(
            endpoint=endpoint, insecure=endpoint.startswith("http://"), timeout=settings.export_timeout_s
        )
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter

    return HttpExporter(endpoint=f"{endpoint}/v1/traces", timeout=settings.export_timeout_s)


def flush_tracing(timeout_ms: int = 5000) -> None:
    """Export what is buffered (before exit, and in tests)."""
    _tracing.provider.force_flush(timeout_ms)


def tracer(service: str) -> trace.Tracer:
    found = _tracing.tracers.get(service)
    if found is None:
        found = _tracing.tracers[service] = _tracing.provider.get_tracer(f"aios.{service}")
    return found


Headers = Sequence[tuple[str, bytes | str | None]] | Mapping[str, bytes | str | None]
"""Kafka message headers: pairs, or a mapping (as some clients give them)."""


def headers_to_carrier(headers: Headers | None) -> dict[str, str]:
    """The trace headers of a Kafka message as the text carrier OpenTelemetry reads."""
    carrier: dict[str, str] = {}
    pairs = headers.items() if isinstance(headers, Mapping) else headers or []
    for key, value in pairs:
        if key in (TRACEPARENT, TRACESTATE) and value is not None:
            carrier[key] = value.decode("ascii", errors="replace") if isinstance(value, bytes) else value
    return carrier


def carrier_to_headers(carrier: Mapping[str, str]) -> list[tuple[str, bytes]]:
    return [(key, value.encode("ascii")) for key, value in carrier.items() if key in (TRACEPARENT, TRACESTATE)]


def _carrier_of(span: Span) -> dict[str, str]:
    carrier: dict[str, str] = {}
    _propagator.inject(carrier, context=trace.set_span_in_context(span))
    return carrier


def start_span(
    service: str,
    name: str,
    carrier: Mapping[str, str],
    *,
    kind: SpanKind = SpanKind.CONSUMER,
    attributes: Mapping[str, str | int | float] | None = None,
    links: Sequence[Link] = (),
) -> tuple[Span, dict[str, str]]:
    """A span under the incoming context (or a new trace), left open, and its context for outputs.

    The caller ends it (`span.end()`) when the work it stands for is done.
    """
    parent = _propagator.extract(carrier=dict(carrier))
    span = tracer(service).start_span(name, context=parent, kind=kind, attributes=attributes, links=links)
    return span, _carrier_of(span)


@contextmanager
def span_from(
    service: str,
    name: str,
    carrier: Mapping[str, str],
    *,
    kind: SpanKind = SpanKind.CONSUMER,
    links: Sequence[Link] = (),
) -> Iterator[dict[str, str]]:
    """A child span of the incoming context (or a new trace) for the block; yields the carrier for outputs."""
    span, outgoing = start_span(service, name, carrier, kind=kind, links=links)
    with trace.use_span(span, end_on_exit=True, record_exception=True, set_status_on_exception=True):
        yield outgoing


def new_trace_carrier(service: str, name: str) -> dict[str, str]:
    """Trace context for a record that starts a trace (ingest)."""
    with span_from(service, name, {}, kind=SpanKind.PRODUCER) as carrier:
        return carrier


def wait_link(carrier: Mapping[str, str], waited: str) -> Link | None:
    """A link to the span whose context is `carrier`, marked as the end of a wait (`waited`: e.g. review)."""
    context = trace.get_current_span(_propagator.extract(carrier=dict(carrier))).get_span_context()
    return Link(context, {WAIT_LINK: waited}) if context.is_valid else None


@contextmanager
def resumed_span(service: str, name: str, carrier: Mapping[str, str], waited: str) -> Iterator[dict[str, str]]:
    """Work resumed after a long wait (a human verdict hours after the request).

    The span stays in the event's trace (child of `carrier`, the span that began the wait) and
    links to that span with `aios.link=<waited>`, so the wait shows as a link between two short
    spans, never as a span hours long. Yields the carrier for outputs.
    """
    link = wait_link(carrier, waited)
    with span_from(service, name, carrier, kind=SpanKind.INTERNAL, links=[link] if link else []) as outgoing:
        yield outgoing


def fail_span(span: Span, reason: str) -> None:
    """Mark a record's span as failed (dead-lettered), with why."""
    span.set_status(Status(StatusCode.ERROR, reason))
