"""`aios feedback`: what reviewers taught, as training data."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import asyncpg
import typer

from aios.db.pool import run_on_database
from aios.feedback.export import labelled_examples, write_csv
from aios.tenants.store import TenantStore

app = typer.Typer(no_args_is_help=True, help="Export reviewers' approvals and relabels as labelled examples.")


@app.command("export")
def export(
    tenant: str = typer.Option(..., "--tenant", help="Tenant name or id."),
    out: Path = typer.Option(..., "--out", dir_okay=False, help="CSV file to write (columns text,label)."),
    since: datetime | None = typer.Option(None, "--since", help="Only examples recorded from this time on."),
    as_json: bool = typer.Option(False, "--json", help="JSON summary, for scripts."),
) -> None:
    """Write TENANT's labelled examples to OUT, ready for `aios model train --text-col text --label-col label`."""

    async def work(pool: asyncpg.Pool) -> tuple[str, list[tuple[str, str]]]:
        found = await TenantStore(pool).resolve(tenant)
        return found.name, await labelled_examples(pool, found.tenant_id, since)

    name, examples = run_on_database(work)
    write_csv(examples, out)
    labels = len({label for _, label in examples})
    if as_json:
        typer.echo(json.dumps({"tenant": name, "out": str(out), "examples": len(examples), "labels": labels}))
    else:
        typer.echo(f"{len(examples)} labelled examples ({labels} labels) of tenant {name} written to {out}")
