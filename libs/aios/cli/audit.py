"""`aios audit`: an event's lineage, chain verification, exports for auditors, retention and auditor keys.

`--tenant` takes a tenant's name or id; ids of tenants no longer registered (and `unknown`, the
tenant of unreadable dead letters) are used as given.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from aios.audit.errors import AuditError
from aios.audit.lineage import lineage
from aios.audit.records import iso_ms
from aios.audit.settings import AuditSettings
from aios.audit.signed_heads import FileHeadLog, Rewritten, find_rewritten
from aios.audit.store import AuditStore, PruneResult
from aios.db.pool import run_on_database
from aios.observability.traces import JaegerTraces
from aios.settings import ConnectionSettings
from aios.tenants.errors import TenantNotFoundError
from aios.tenants.store import AUDITOR, TenantStore

app = typer.Typer(no_args_is_help=True, help="The audit trail: lineage, verification, exports, retention.")

_JSON = typer.Option(False, "--json", help="JSON, for scripts.")


async def _tenant_id(pool: asyncpg.Pool, tenant: str) -> str:
    try:
        return (await TenantStore(pool).resolve(tenant)).tenant_id
    except TenantNotFoundError:
        return tenant


def _moment(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not an ISO 8601 date or time (e.g. 2026-01-31 or 2026-01-31T12:00Z)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@app.command()
def show(
    event_id: str = typer.Argument(..., help="The event id (as ingest returned it)."),
    tenant: str | None = typer.Option(None, "--tenant", help="Only this tenant's records."),
    as_json: bool = _JSON,
) -> None:
    """An event's whole lineage in order: source, schemas, model, documents, draft, policy, review, actions, trace."""

    async def work(pool: asyncpg.Pool) -> list[dict[str, Any]]:
        return await AuditStore(pool).event_rows(event_id, await _tenant_id(pool, tenant) if tenant else None)

    rows = run_on_database(work)
    if not rows:
        raise AuditError(f"no audit records for event {event_id}")
    found = lineage(rows)
    traces = JaegerTraces(ConnectionSettings().jaeger_url)
    found["trace_urls"] = [traces.trace_url(trace_id) for trace_id in found["summary"]["trace_ids"]]
    if as_json:
        typer.echo(json.dumps(found, default=str, sort_keys=True))
        return
    console = Console()
    console.print(f"event [bold]{found['event_id']}[/] of tenant {found['tenant_id']}: {' → '.join(found['stages'])}")
    table = Table("record time", "stage", "topic[partition]@offset", "schema", "trace", "what it says")
    for step in found["steps"]:
        facts = {k: v for k, v in step["facts"].items() if v not in (None, [], {}, "")}
        table.add_row(
            step["record_time"],
            step["stage"],
            f"{step['topic']}[{step['partition']}]@{step['offset']}",
            str(step["schema_id"]),
            (step["trace_id"] or "")[:12],
            json.dumps(facts, default=str, ensure_ascii=False)[:400],
        )
    console.print(table)
    for key, value in found["summary"].items():
        console.print(f"[bold]{key:15}[/] {json.dumps(value, default=str, ensure_ascii=False)}")
    for url in found["trace_urls"]:
        console.print(f"[bold]{'trace':15}[/] {url}  (aios trace {event_id}: the timeline)")


@app.command()
def verify(
    tenant: str | None = typer.Option(None, "--tenant", help="Only this tenant's chain."),
    signed_heads: Path | None = typer.Option(
        None, "--signed-heads", help="The signed heads the audit service wrote; default AIOS_AUDIT_SIGNED_HEADS_PATH."
    ),
    as_json: bool = _JSON,
) -> None:
    """Recompute every tenant's keyed chain and compare it with the heads signed outside the database; exit 1
    and name the first broken link (row, tenant, event) and any stretch rewritten since it was signed."""
    head_log = FileHeadLog(signed_heads or AuditSettings().signed_heads_path)

    async def work(pool: asyncpg.Pool) -> tuple[list[Any], list[Rewritten], int]:
        store = AuditStore(pool)
        tenant_id = await _tenant_id(pool, tenant) if tenant else None
        if tenant_id is not None and tenant_id not in await store.tenants():
            raise AuditError(f"no audit trail for tenant {tenant}")
        total = await pool.fetchval(
            "SELECT count(*) FROM audit_log WHERE $1::text IS NULL OR tenant_id = $1", tenant_id
        )
        with Progress(
            TextColumn("verifying"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=True
        ) as progress:
            bar = progress.add_task("rows", total=total)
            reports = await store.verify(tenant_id, lambda rows: progress.advance(bar, rows))
        return reports, *await find_rewritten(store, head_log, tenant_id)

    reports, rewritten, forged = run_on_database(work)
    broken = [r for r in reports if r.broken is not None]
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "ok": not broken and not rewritten and not forged,
                    "tenants": [
                        {**dataclasses.asdict(r), "broken": str(r.broken) if r.broken else None} for r in reports
                    ],
                    "rewritten": [str(stretch) for stretch in rewritten],
                    "forged_signed_heads": forged,
                },
                default=str,
            )
        )
    else:
        for report in reports:
            state = f"BROKEN: {report.broken}" if report.broken else "ok"
            typer.echo(
                f"{report.tenant_id}: {report.rows} rows, positions {report.anchor_seq + 1}..{report.head_seq},"
                f" head {report.head_hash[:16]}: {state}"
            )
    for report in broken:
        typer.secho(f"chain broken: {report.broken}", fg=typer.colors.RED, err=True)
    for stretch in rewritten:
        typer.secho(f"rewritten: {stretch}", fg=typer.colors.RED, err=True)
    if forged:
        typer.secho(f"{forged} signed head entries of {head_log.path} do not verify", fg=typer.colors.RED, err=True)
    if broken or rewritten or forged:
        raise typer.Exit(1)


@app.command()
def export(
    tenant: str = typer.Option(..., "--tenant", help="Tenant name or id."),
    since: str = typer.Option(..., "--since", help="First record time (ISO 8601; UTC when no zone)."),
    until: str | None = typer.Option(None, "--until", help="Records before this time only."),
    out: Path = typer.Option(..., "--out", help="JSON Lines file to write."),
) -> None:
    """Write a tenant's rows as JSON Lines, hashes included, so an auditor can re-verify them offline."""
    start, end = _moment(since), _moment(until) if until else None

    async def work(pool: asyncpg.Pool) -> int:
        tenant_id = await _tenant_id(pool, tenant)
        written = 0
        with (
            out.open("w", encoding="utf-8") as file,
            Progress(TextColumn("exporting"), MofNCompleteColumn(), TimeElapsedColumn(), transient=True) as progress,
        ):
            bar = progress.add_task("rows", total=None)
            async for row in AuditStore(pool).export(tenant_id, start, end):
                row["record_time"] = iso_ms(row["record_time"])
                row["record"] = json.loads(row["record"])
                file.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
                written += 1
                progress.advance(bar)
        return written

    written = run_on_database(work)
    typer.echo(f"wrote {written} rows to {out}")


@app.command()
def retention(
    tenant: str = typer.Option(..., "--tenant", help="Tenant name or id."),
    days: int | None = typer.Option(None, "--days", min=1, help="Keep this tenant's rows this many days."),
    default: bool = typer.Option(False, "--default", help="Back to the service's AIOS_AUDIT_RETENTION_DAYS."),
) -> None:
    """Set how long a tenant's audit rows are kept; the audit service removes older ones, keeping a checkpoint."""
    if (days is None) == (not default):
        raise typer.BadParameter("give --days N or --default")

    async def work(pool: asyncpg.Pool) -> str:
        tenant_id = await _tenant_id(pool, tenant)
        await AuditStore(pool).set_retention(tenant_id, days)
        return tenant_id

    tenant_id = run_on_database(work)
    typer.echo(f"tenant {tenant_id}: " + (f"rows kept {days} days" if days else "the service's default retention"))


@app.command()
def prune(
    tenant: str | None = typer.Option(None, "--tenant", help="Only this tenant."),
    default_days: int = typer.Option(0, "--default-days", min=0, help="Retention of tenants without one; 0 keeps."),
) -> None:
    """Remove expired rows now (the audit service also does it every AIOS_AUDIT_PRUNE_INTERVAL_S)."""

    async def work(pool: asyncpg.Pool) -> list[PruneResult]:
        tenant_id = await _tenant_id(pool, tenant) if tenant else None
        return await AuditStore(pool).prune(default_days or None, tenant_id)

    results = run_on_database(work)
    for result in results:
        typer.echo(
            f"{result.tenant_id}: removed {result.removed} rows up to position {result.checkpoint_seq}"
            f" (older than {iso_ms(result.cutoff)}); checkpoint kept"
        )
    if not results:
        typer.echo("nothing has expired")


@app.command()
def key(tenant: str = typer.Argument(..., help="Tenant name or id."), as_json: bool = _JSON) -> None:
    """Issue an auditor key: it reads the tenant's trail (GET /v1/audit/events/ID) and cannot submit events."""
    issued = run_on_database(lambda pool: TenantStore(pool).add_key(tenant, AUDITOR))
    if as_json:
        typer.echo(json.dumps(dataclasses.asdict(issued)))
        return
    typer.echo(f"tenant       {issued.name} ({issued.tenant_id})")
    typer.echo(f"auditor key  {issued.api_key}")
    typer.echo("store it now: it cannot be shown again", err=True)
