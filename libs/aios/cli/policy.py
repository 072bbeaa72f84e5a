"""`aios policy`: validate and apply a tenant's policy file, try it on sample events, list its versions.

`apply` opens a short-lived pool to `AIOS_POSTGRES_DSN` (applying pending migrations first);
`test` needs nothing running: it evaluates the file in process, simulating the traffic windows.
"""

from __future__ import annotations

import json
from pathlib import Path

import asyncpg
import typer
from rich.console import Console
from rich.table import Table

from aios.cli.access import admin_action, record
from aios.cli.refdata import book_of
from aios.cli.rollout import policy_rollout
from aios.db.pool import run_on_database
from aios.policy.loading import load_policy_file
from aios.policy.simulate import read_sample_events, simulate
from aios.policy.store import Applied, PolicyStore
from aios.tenants.store import TenantStore

app = typer.Typer(no_args_is_help=True, help="Policy as code: apply and test tenants' policy files.")

_JSON = typer.Option(False, "--json", help="JSON output, for scripts.")


@app.command("apply")
def apply(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="A policy file, e.g. policies/acme.yaml."),
    as_json: bool = _JSON,
) -> None:
    """Validate FILE and make it the active policy of the tenant it names (recorded by content hash; admin only)."""
    principal = admin_action("policy.apply")
    loaded = load_policy_file(file)

    async def work(pool: asyncpg.Pool) -> tuple[str, Applied]:
        tenant = await TenantStore(pool).resolve(loaded.tenant)
        return tenant.name, await PolicyStore(pool).apply(tenant.tenant_id, loaded)

    name, applied = run_on_database(work)
    record(principal, "policy.apply", {"tenant": applied.tenant_id, "version": applied.version, "file": str(file)})
    summary = {
        "tenant": name,
        "tenant_id": applied.tenant_id,
        "version": applied.version,
        "new_version": applied.new_version,
        "changed": applied.changed,
        "rules": len(loaded.policy.rules),
    }
    if as_json:
        typer.echo(json.dumps(summary))
        return
    state = "active (unchanged)" if not summary["changed"] else "active"
    typer.echo(f"tenant {name}: policy {loaded.version} {state}, {summary['rules']} rules + default")


@app.command("test")
def test(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="The policy file to try."),
    events: Path = typer.Option(
        ..., "--events", exists=True, dir_okay=False, help="JSON lines shaped like aios.events.enriched values."
    ),
    refdata: list[str] = typer.Option(
        [],
        "--refdata",
        help="KIND=FILE (vendors, purchase-orders or policies; repeatable): reference data document events look up.",
    ),
    as_json: bool = _JSON,
) -> None:
    """Print what FILE decides for each sample event (support tickets or documents), without Kafka or a database."""
    loaded = load_policy_file(file)
    outcomes = simulate(loaded, read_sample_events(events), reference=book_of(refdata))
    if as_json:
        for outcome in outcomes:
            typer.echo(json.dumps(outcome.as_json()))
        return
    table = Table(title=f"{file} (version {loaded.version}, tenant {loaded.tenant})")
    for column in ("line", "event", "intent / type", "conf.", "outcome", "rule", "reason / actions"):
        table.add_column(column, overflow="fold")
    for outcome in outcomes:
        verdict = outcome.verdict
        details = verdict.reason
        if verdict.outcome == "review":
            details += f" (priority {verdict.priority}, SLA {verdict.sla_s}s)"
        if outcome.actions:
            details += "; " if details else ""
            details += ", ".join(action["type"] for action in outcome.actions)
        table.add_row(
            str(outcome.line),
            outcome.facts.event_id,
            outcome.facts.label if outcome.facts.document is None else outcome.facts.type,
            f"{outcome.facts.confidence:.2f}" if outcome.facts.document is None else "",
            verdict.outcome.upper(),
            verdict.rule,
            details,
        )
    Console(width=160).print(table)


@app.command("history")
def history(
    tenant: str = typer.Argument(..., help="Tenant name or id."),
    as_json: bool = _JSON,
) -> None:
    """Every recorded policy version of TENANT, newest first, and which one is active."""

    async def work(pool: asyncpg.Pool) -> list[tuple[str, str, bool]]:
        found = await TenantStore(pool).resolve(tenant)
        return await PolicyStore(pool).history(found.tenant_id)

    versions = run_on_database(work)
    if as_json:
        typer.echo(json.dumps([{"version": v, "created_at": c, "active": a} for v, c, a in versions]))
        return
    for version, created_at, active in versions:
        typer.echo(f"{version}  {created_at}{'  active' if active else ''}")


app.command("rollout")(policy_rollout)
