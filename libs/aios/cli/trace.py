"""`aios trace EVENT_ID`: one event's trace from Jaeger as a timeline (service, span, start, duration).

The audit trail says which trace the event is (its records carry the trace id); Jaeger
(`AIOS_JAEGER_URL`) holds the spans every service exported under it.
"""

from __future__ import annotations

import json

import asyncpg
import typer
from rich.console import Console
from rich.table import Table

from aios.audit.errors import AuditError
from aios.audit.lineage import lineage
from aios.audit.store import AuditStore
from aios.db.pool import run_on_database
from aios.observability.traces import JaegerTraces, TimelineRow, timeline
from aios.settings import ConnectionSettings


def event_trace_ids(event_id: str) -> list[str]:
    """The trace ids the audit trail recorded for the event (one, unless it was submitted again)."""

    async def work(pool: asyncpg.Pool) -> list[dict[str, object]]:
        return await AuditStore(pool).event_rows(event_id, None)

    rows = run_on_database(work)
    if not rows:
        raise AuditError(f"no audit records for event {event_id}")
    return list(lineage(rows)["summary"]["trace_ids"])


def trace(
    event_id: str = typer.Argument(..., help="The event id (as ingest returned it)."),
    jaeger: str | None = typer.Option(None, "--jaeger", help="Jaeger base URL (default: AIOS_JAEGER_URL)."),
    as_json: bool = typer.Option(False, "--json", help="JSON, for scripts."),
) -> None:
    """One event's trace from Jaeger: every service's spans in start order, with their start and duration."""
    traces = JaegerTraces(jaeger or ConnectionSettings().jaeger_url)
    rows = {trace_id: timeline(traces.spans(trace_id)) for trace_id in event_trace_ids(event_id)}
    if as_json:
        typer.echo(json.dumps({trace_id: [_as_dict(row) for row in found] for trace_id, found in rows.items()}))
        return
    console = Console()
    for trace_id, found in rows.items():
        table = Table("start", "service", "span", "duration", title=f"event {event_id}: trace {trace_id}")
        for row in found:
            span = row.span
            name = "  " * row.depth + span.name + ("  [link: " + ", ".join(_waits(row)) + "]" if span.links else "")
            table.add_row(
                f"+{row.offset_ns / 1e6:,.1f} ms",
                span.service,
                f"[red]{name} ✗ {span.error}[/]" if span.error is not None else name,
                f"{span.duration_ns / 1e6:,.1f} ms",
            )
        console.print(table)
        console.print(f"in Jaeger's UI: {traces.trace_url(trace_id)}")


def _waits(row: TimelineRow) -> list[str]:
    return [link.attributes.get("aios.link", "link") + f" to {link.span_id[:8]}" for link in row.span.links]


def _as_dict(row: TimelineRow) -> dict[str, object]:
    span = row.span
    return {
        "service": span.service,
        "span": span.name,
        "span_id": span.span_id,
        "parent_span_id": span.parent_span_id,
        "depth": row.depth,
        "start_offset_ms": row.offset_ns / 1e6,
        "duration_ms": span.duration_ns / 1e6,
        "error": span.error,
        "links": [{"span_id": link.span_id, **link.attributes} for link in span.links],
    }
