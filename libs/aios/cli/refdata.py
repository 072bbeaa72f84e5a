"""`aios refdata`: import a tenant's reference data from CSV (each import a new revision) and list it.

`import` validates every row first (rejected rows are listed with their line and reason, the rest
imported), then writes in one transaction with a progress bar; `list` shows the tenant's revisions
and how many rows of each kind are current.
"""

from __future__ import annotations

import json
from pathlib import Path

import asyncpg
import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from aios.cli.access import admin_action, record
from aios.db.pool import run_on_database
from aios.policy.reference import KINDS, Kind
from aios.progress import COUNTING_COLUMNS
from aios.refdata.book import ReferenceBook
from aios.refdata.errors import RefdataFileInvalid
from aios.refdata.parsing import ParsedFile, parse_file
from aios.refdata.store import Imported, RefdataStore, RevisionInfo
from aios.tenants.store import TenantStore

app = typer.Typer(no_args_is_help=True, help="Reference data per tenant: vendors, purchase orders, insurance policies.")

_JSON = typer.Option(False, "--json", help="JSON output, for scripts.")
SHOWN_REJECTIONS = 20
"""Rejected rows listed on the terminal (all of them with --json)."""


def kind_of(text: str) -> Kind:
    for kind in KINDS:
        if kind == text:
            return kind
    raise typer.BadParameter(f"{text!r}: one of {', '.join(KINDS)}")


def read_file(kind: Kind, path: Path) -> ParsedFile:
    """`path` parsed as `kind`; a file that cannot be read is RefdataFileInvalid naming it."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RefdataFileInvalid(f"cannot read {path}: {exc}") from exc
    try:
        return parse_file(kind, text)
    except RefdataFileInvalid as exc:
        raise RefdataFileInvalid(f"{path}: {exc}") from None


def book_of(files: list[str]) -> ReferenceBook:
    """Reference rows from `KIND=FILE` options, one revision per file (what `aios policy test --refdata` reads)."""
    book = ReferenceBook()
    for option in files:
        kind, _, path = option.partition("=")
        if not path:
            raise typer.BadParameter(f"{option!r}: give KIND=FILE with KIND one of {', '.join(KINDS)}")
        parsed = read_file(kind_of(kind), Path(path))
        for rejected in parsed.rejected:
            typer.echo(f"{path}:{rejected.line}: row skipped: {rejected.reason}", err=True)
        book.add(parsed.rows)
    return book


@app.command("import")
def import_(
    kind: str = typer.Argument(..., help=" | ".join(KINDS)),
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="A CSV file with a header line."),
    tenant: str = typer.Option(..., "--tenant", help="Tenant name or id."),
    replace: bool = typer.Option(
        False, "--replace", help="The file is all there is: rows of this kind not in it are no longer current."
    ),
    as_json: bool = _JSON,
) -> None:
    """Import FILE as the tenant's KIND rows: a new revision; bad rows are skipped and listed with why (admin only)."""
    principal = admin_action("refdata.import")
    parsed = read_file(kind_of(kind), file)
    console = Console(stderr=True)

    async def work(pool: asyncpg.Pool) -> Imported:
        found = await TenantStore(pool).resolve(tenant)
        with Progress(*COUNTING_COLUMNS, console=console, disable=as_json) as progress:
            task = progress.add_task(f"{kind} → {found.name}", total=len(parsed.rows))
            return await RefdataStore(pool).import_file(
                found.tenant_id,
                parsed,
                replace=replace,
                source=file.name,
                imported_by=principal.name,
                on_progress=lambda written: progress.update(task, completed=written),
            )

    imported = run_on_database(work)
    record(
        principal,
        "refdata.import",
        {"tenant": imported.tenant_id, "kind": kind, "revision": imported.revision, "file": str(file)},
    )
    rejected = [{"line": r.line, "reason": r.reason} for r in parsed.rejected]
    if as_json:
        summary = {
            "tenant_id": imported.tenant_id,
            "kind": kind,
            "revision": imported.revision,
            "accepted": imported.accepted,
            "rejected": rejected,
            "replaced": imported.replaced,
            "closed": imported.closed,
        }
        typer.echo(json.dumps(summary))
        return
    out = Console()
    out.print(
        f"{kind}: revision {imported.revision}, {imported.accepted} row(s) imported, {len(rejected)} rejected,"
        f" {imported.closed} earlier row(s) {'replaced (--replace)' if replace else 'updated'}"
    )
    if rejected:
        table = Table(title=f"rejected rows of {file}")
        table.add_column("line", justify="right")
        table.add_column("reason", overflow="fold")
        for row in rejected[:SHOWN_REJECTIONS]:
            table.add_row(str(row["line"]), str(row["reason"]))
        out.print(table)
        if len(rejected) > SHOWN_REJECTIONS:
            out.print(f"… and {len(rejected) - SHOWN_REJECTIONS} more (all of them with --json)")


@app.command("list")
def list_(
    tenant: str | None = typer.Option(None, "--tenant", help="Tenant name or id; without it, every tenant's revision."),
    as_json: bool = _JSON,
) -> None:
    """Every tenant's reference-data revision, or one tenant's revisions (newest first) and its current rows."""
    if tenant is None:
        tenants = run_on_database(lambda pool: RefdataStore(pool).tenants())
        if as_json:
            typer.echo(json.dumps([{"tenant_id": t, "revision": r} for t, r in tenants]))
            return
        for tenant_id, revision in tenants:
            typer.echo(f"{tenant_id}  revision {revision}")
        return

    async def work(pool: asyncpg.Pool) -> tuple[str, list[RevisionInfo], dict[Kind, int]]:
        found = await TenantStore(pool).resolve(tenant)
        store = RefdataStore(pool)
        return found.name, await store.revisions(found.tenant_id), await store.current_counts(found.tenant_id)

    name, revisions, counts = run_on_database(work)
    latest = revisions[0].revision if revisions else 0
    if as_json:
        listing = {
            "tenant": name,
            "revision": latest,
            "current": counts,
            "revisions": [{**vars(r), "created_at": r.created_at.isoformat()} for r in revisions],
        }
        typer.echo(json.dumps(listing))
        return
    out = Console(width=160)
    out.print(f"tenant {name}: revision {latest}; current: {', '.join(f'{n} {k}' for k, n in counts.items())}")
    table = Table()
    for column in ("revision", "kind", "file", "replace", "accepted", "rejected", "by", "at"):
        table.add_column(column)
    for r in revisions:
        table.add_row(
            str(r.revision),
            r.kind,
            r.source,
            "yes" if r.replaced else "",
            str(r.accepted),
            str(r.rejected),
            r.imported_by,
            r.created_at.isoformat(timespec="seconds"),
        )
    out.print(table)
