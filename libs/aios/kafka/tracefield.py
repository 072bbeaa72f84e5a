"""The `trace` field of AIOS values: the W3C trace context a record carries besides its headers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aios.observability.tracing import TRACEPARENT, TRACESTATE, Headers, headers_to_carrier
from aios.schemas.records import TraceContext


def trace_field(carrier: Mapping[str, str]) -> TraceContext:
    """The `trace` field for an output (or dead letter) under the context in `carrier`."""
    return TraceContext(traceparent=carrier.get(TRACEPARENT, ""), tracestate=carrier.get(TRACESTATE))


def record_carrier(headers: Headers | None, value: Mapping[str, Any]) -> dict[str, str]:
    """The trace context of a consumed record: its headers', else its value's `trace` field.

    Producers that set no trace headers still carry the context in the value.
    """
    return headers_to_carrier(headers) or value_carrier(value)


def value_carrier(value: Mapping[str, Any]) -> dict[str, str]:
    """The trace context in a value's `trace` field (empty when it has none)."""
    trace = value.get("trace")
    if not isinstance(trace, dict):
        return {}
    return {key: str(trace[key]) for key in (TRACEPARENT, TRACESTATE) if trace.get(key)}
