"""W3C trace context across Kafka: read `traceparent` from headers, start a span, pass it on.

OpenTelemetry does the span bookkeeping; exporting is configured by the standard `OTEL_*`
variables of the SDK when an exporter is installed, and is a no-op otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"

_propagator = TraceContextTextMapPropagator()
_provider = TracerProvider()


@cache
def tracer(service: str) -> trace.Tracer:
    return _provider.get_tracer(f"aios.{service}")


def headers_to_carrier(headers: list[tuple[str, bytes | None]] | None) -> dict[str, str]:
    """The trace headers of a Kafka message as the text carrier OpenTelemetry reads."""
    carrier: dict[str, str] = {}
    for key, value in headers or []:
        if key in (TRACEPARENT, TRACESTATE) and value is not None:
            carrier[key] = value.decode("ascii", errors="replace")
    return carrier


@contextmanager
def span_from(service: str, name: str, carrier: Mapping[str, str]) -> Iterator[dict[str, str]]:
    """A child span of the incoming context (or a new trace); yields the carrier for outputs."""
    parent = _propagator.extract(carrier=dict(carrier))
    with tracer(service).start_as_current_span(name, context=parent, kind=trace.SpanKind.CONSUMER):
        outgoing: dict[str, str] = {}
        _propagator.inject(outgoing)
        yield outgoing


def new_trace_carrier(service: str, name: str) -> dict[str, str]:
    """Trace context for a record that starts a trace (ingest)."""
    with span_from(service, name, {}) as carrier:
        return carrier


def carrier_to_headers(carrier: Mapping[str, str]) -> list[tuple[str, bytes]]:
    return [(key, value.encode("ascii")) for key, value in carrier.items() if key in (TRACEPARENT, TRACESTATE)]
