"""`aios documents feedback export`: reviewers' approved documents as labelled data for `aios documents train`."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import asyncpg
import typer

from aios.db.pool import run_on_database
from aios.documents.feedback import ReviewedDocument, reviewed_documents, write_examples
from aios.keys.documents import sealed_store
from aios.tenants.store import TenantStore

app = typer.Typer(no_args_is_help=True, help="Reviewers' corrections of documents, as labelled examples.")


@app.command("export")
def export_command(
    out: Path = typer.Option(..., "--out", file_okay=False, help="Folder for the documents and labelled.jsonl."),
    tenant: str | None = typer.Option(
        None, "--tenant", help="Only this tenant's reviews, by name or id (default: every tenant's)."
    ),
    since: datetime | None = typer.Option(None, "--since", help="Only documents reviewed from this time on."),
    corrected_only: bool = typer.Option(
        False, "--corrected-only", help="Only documents a reviewer changed (default: confirmed ones too)."
    ),
    as_json: bool = typer.Option(False, "--json", help="JSON output, for scripts."),
) -> None:
    """Write each reviewed document (its bytes from the object store) and its true fields as labelled JSONL."""

    async def work(pool: asyncpg.Pool) -> tuple[list[ReviewedDocument], Path, int]:
        tenant_id = None if tenant is None else (await TenantStore(pool).resolve(tenant)).tenant_id
        examples = await reviewed_documents(pool, tenant_id, since, corrected_only=corrected_only)
        if not examples:
            return examples, out, 0
        return examples, *await write_examples(examples, sealed_store(pool).get, out)

    examples, path, count = run_on_database(work)
    if not examples:
        typer.secho("no reviewed documents to export", fg=typer.colors.YELLOW, err=True)
        raise typer.Exit(1)
    corrected = sum(1 for example in examples if example.corrected)
    summary = {"labelled": str(path), "documents": count, "corrected": corrected}
    if as_json:
        typer.echo(json.dumps(summary))
    else:
        typer.echo(f"{count} reviewed documents ({corrected} corrected) written to {path}")
        typer.echo(f"train on them: aios documents train --data {path}")
