"""One trace read back from Jaeger's query API (v3, OTLP-shaped): its spans, and a timeline of them.

`aios trace EVENT_ID` prints the timeline; the trace tests read the same spans to check a trace
from outside the services: which services took part, who is whose parent, the links of waits.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx

from aios.observability.errors import ObservabilityError


class TraceNotFound(ObservabilityError):
    """Jaeger holds no trace with that id (not exported yet, sampled out, or older than its memory)."""


class JaegerUnavailable(ObservabilityError):
    """Jaeger did not answer (down, wrong AIOS_JAEGER_URL)."""


@dataclass(frozen=True)
class SpanLink:
    trace_id: str
    span_id: str
    attributes: dict[str, str]


@dataclass(frozen=True)
class TraceSpan:
    service: str
    """`service.name` of the process that made the span (`aios-<service>`)."""
    name: str
    trace_id: str
    span_id: str
    parent_span_id: str | None
    start_ns: int
    end_ns: int
    attributes: dict[str, str]
    links: tuple[SpanLink, ...]
    error: str | None
    """The status message of a failed span (a dead-lettered record says why), else None."""

    @property
    def duration_ns(self) -> int:
        return self.end_ns - self.start_ns


@dataclass(frozen=True)
class TimelineRow:
    span: TraceSpan
    depth: int
    """How many ancestors the span has in the trace (0: a root)."""
    offset_ns: int
    """Start after the trace's first span started."""


class JaegerTraces:
    """The query API of one Jaeger (`AIOS_JAEGER_URL`)."""

    def __init__(self, url: str, timeout_s: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s

    def trace_url(self, trace_id: str) -> str:
        """The trace in Jaeger's UI."""
        return f"{self.url}/trace/{trace_id}"

    def spans(self, trace_id: str) -> list[TraceSpan]:
        try:
            response = httpx.get(f"{self.url}/api/v3/traces/{trace_id}", timeout=self.timeout_s)
        except httpx.HTTPError as exc:
            raise JaegerUnavailable(f"Jaeger does not answer at {self.url}: {exc}") from exc
        if response.status_code == 404:
            raise TraceNotFound(f"Jaeger at {self.url} holds no trace {trace_id}")
        if response.status_code != 200:
            raise JaegerUnavailable(f"Jaeger at {self.url} answered HTTP {response.status_code}: {response.text[:300]}")
        return parse_otlp_json(response.json().get("result", {}))


def parse_otlp_json(traces: dict[str, Any]) -> list[TraceSpan]:
    """Spans of an OTLP/JSON `TracesData` (Jaeger's v3 answer), with their resource's service name."""
    found = []
    for resource in traces.get("resourceSpans", []):
        service = _attributes(resource.get("resource", {}).get("attributes", [])).get("service.name", "")
        for scope in resource.get("scopeSpans", []):
            for span in scope.get("spans", []):
                status = span.get("status", {})
                found.append(
                    TraceSpan(
                        service=service,
                        name=span.get("name", ""),
                        trace_id=_hex_id(span["traceId"]),
                        span_id=_hex_id(span["spanId"]),
                        parent_span_id=_hex_id(span["parentSpanId"]) if span.get("parentSpanId") else None,
                        start_ns=int(span.get("startTimeUnixNano", 0)),
                        end_ns=int(span.get("endTimeUnixNano", 0)),
                        attributes=_attributes(span.get("attributes", [])),
                        links=tuple(
                            SpanLink(
                                _hex_id(link["traceId"]),
                                _hex_id(link["spanId"]),
                                _attributes(link.get("attributes", [])),
                            )
                            for link in span.get("links", [])
                        ),
                        error=status.get("message", "") if status.get("code") in (2, "STATUS_CODE_ERROR") else None,
                    )
                )
    return found


def timeline(spans: Iterable[TraceSpan]) -> list[TimelineRow]:
    """The spans by start time, each with its depth under its ancestors and its offset from the first."""
    ordered = sorted(spans, key=lambda s: (s.start_ns, s.end_ns))
    if not ordered:
        return []
    by_id = {s.span_id: s for s in ordered}
    first = ordered[0].start_ns

    def depth(span: TraceSpan) -> int:
        seen = 0
        while span.parent_span_id in by_id and seen < len(by_id):
            span, seen = by_id[span.parent_span_id], seen + 1
        return seen

    return [TimelineRow(span, depth(span), span.start_ns - first) for span in ordered]


def _hex_id(value: str) -> str:
    """A trace or span id as lowercase hex, whether the JSON gives hex (OTLP/JSON) or base64 (protobuf JSON)."""
    if len(value) in (16, 32) and all(c in "0123456789abcdefABCDEF" for c in value):
        return value.lower()
    try:
        return base64.b64decode(value, validate=True).hex()
    except (binascii.Error, ValueError) as exc:
        raise ObservabilityError(f"not a trace or span id: {value!r}") from exc


def _attributes(attributes: Iterable[dict[str, Any]]) -> dict[str, str]:
    found = {}
    for attribute in attributes:
        value = attribute.get("value", {})
        found[attribute["key"]] = str(next(iter(value.values()), "")) if value else ""
    return found
