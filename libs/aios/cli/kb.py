"""`aios kb`: tenants' knowledge bases: add documents, list, remove, search, evaluate retrieval, configure drafts.

Each command opens a short-lived pool to `AIOS_POSTGRES_DSN` and applies pending migrations first.
`--tenant` takes a tenant's name or id (`aios tenants list`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from aios.cli.access import admin_action, record
from aios.cli.tenants import resolve_tenant
from aios.db.pool import run_on_database
from aios.generation.evaluation import evaluate as evaluate_draft_queries
from aios.generation.evaluation import load_draft_queries
from aios.pii import redact
from aios.progress import COUNTING_COLUMNS
from aios.retrieval.dense import DenseIndex
from aios.retrieval.embedding import load_encoder
from aios.retrieval.endpoint import GeneratorEndpoint
from aios.retrieval.evaluation import CUTOFFS, Scores, document_ranking, load_labelled, score
from aios.retrieval.ingestion import IngestReport, add_paths
from aios.retrieval.retriever import Query, Retriever
from aios.retrieval.settings import MODES, Mode, RetrievalSettings
from aios.retrieval.store import GENERATORS, KEEP, KnowledgeBase
from aios.retrieval.types import Passage, snippet
from aios.retrieve_generate.service import make_drafter
from aios.retrieve_generate.settings import RetrieveGenerateSettings

app = typer.Typer(no_args_is_help=True, help="Tenants' knowledge bases: documents, search, evaluation, draft settings.")

T = TypeVar("T")

_JSON = typer.Option(False, "--json", help="JSON output, for scripts.")
_TENANT = typer.Option(..., "--tenant", help="Tenant name or id.")


def _with_kb(work: Callable[[KnowledgeBase], Awaitable[T]]) -> T:
    settings = RetrievalSettings()
    return run_on_database(lambda pool: work(KnowledgeBase(pool, settings.text_search_config)))


def _tenant_id(tenant: str) -> str:
    return resolve_tenant(tenant).tenant_id


@app.command("add")
def add(
    paths: list[Path] = typer.Argument(..., help="Markdown, text or HTML files, or folders of them."),
    tenant: str = _TENANT,
    force: bool = typer.Option(False, "--force", help="Re-ingest files whose content is unchanged too."),
    as_json: bool = _JSON,
) -> None:
    """Add or update documents; an unchanged file is skipped, a changed one has its chunks replaced."""
    tenant_id = _tenant_id(tenant)
    with Progress(*COUNTING_COLUMNS, console=Console(stderr=True), disable=as_json) as progress:
        task = progress.add_task("ingesting", total=None)
        report = add_paths(
            tenant_id,
            paths,
            force=force,
            on_start=lambda count: progress.update(task, total=count),
            advance=lambda document_id: progress.update(task, advance=1, description=f"ingesting {document_id}"),
        )
    _print_report(report, as_json)
    if report.failed:
        raise typer.Exit(1)


def _print_report(report: IngestReport, as_json: bool) -> None:
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "added": report.added,
                    "replaced": report.replaced,
                    "unchanged": report.unchanged,
                    "failed": [{"file": file, "reason": reason} for file, reason in report.failed],
                    "chunks": report.chunks,
                }
            )
        )
        return
    typer.echo(report.summary())
    for file, reason in report.failed:
        typer.secho(f"  {file}: {reason}", fg=typer.colors.RED, err=True)


@app.command("list")
def list_documents(tenant: str = _TENANT, as_json: bool = _JSON) -> None:
    """The tenant's documents with their chunk counts."""
    tenant_id = _tenant_id(tenant)
    documents = _with_kb(lambda kb: kb.documents(tenant_id))
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "document_id": d.document_id,
                        "title": d.title,
                        "source": d.source,
                        "chunks": d.chunks,
                        "content_sha256": d.content_sha256,
                        "updated_at": d.updated_at.isoformat(),
                    }
                    for d in documents
                ]
            )
        )
        return
    for d in documents:
        typer.echo(f"{d.document_id}\t{d.chunks} chunks\t{d.title}")


@app.command("remove")
def remove(
    document_ids: list[str] = typer.Argument(..., help="Document ids, as `aios kb list` shows them."),
    tenant: str = _TENANT,
) -> None:
    """Remove documents and their chunks; an unknown id is reported and the command exits 1."""
    tenant_id = _tenant_id(tenant)
    removed = _with_kb(lambda kb: kb.remove_documents(tenant_id, document_ids))
    for document_id in removed:
        typer.echo(f"removed {document_id}")
    missing = sorted(set(document_ids) - set(removed))
    if missing:
        typer.secho(f"no such document: {', '.join(missing)}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)


def _search(tenant_id: str, queries: list[str], k: int, modes: tuple[Mode, ...]) -> dict[Mode, list[list[Passage]]]:
    """Every mode's ranking for every query; the queries are embedded once, in one batch."""
    encoder = load_encoder()
    vectors = encoder.encode(queries)
    index = DenseIndex(encoder.device)

    async def work(kb: KnowledgeBase) -> dict[Mode, list[list[Passage]]]:
        retriever = Retriever(kb, index)
        kbs = await retriever.refresh([tenant_id])
        batch = [Query(tenant_id, text, vector) for text, vector in zip(queries, vectors, strict=True)]
        return {mode: await retriever.search(batch, k, mode, kbs) for mode in modes}

    return _with_kb(work)


@app.command("search")
def search(
    query: str = typer.Argument(..., help="What to look for, in plain words."),
    tenant: str = _TENANT,
    k: int = typer.Option(5, "--k", min=1, max=100, help="Chunks returned."),
    mode: str = typer.Option("hybrid", "--mode", help=" | ".join(MODES)),
    as_json: bool = _JSON,
) -> None:
    """Ranked chunks with document, score and snippet."""
    chosen = _mode(mode)
    passages = _search(_tenant_id(tenant), [query], k, (chosen,))[chosen][0]
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "rank": rank,
                        "document_id": p.key.document_id,
                        "chunk_id": p.key.chunk_id,
                        "title": p.title,
                        "score": p.score,
                        "snippet": snippet(p.text),
                    }
                    for rank, p in enumerate(passages, start=1)
                ]
            )
        )
        return
    for rank, p in enumerate(passages, start=1):
        typer.echo(f"{rank}. {p.key.chunk_id}  {p.score:.4f}  {p.title}\n   {snippet(p.text)}")


def _mode(mode: str) -> Mode:
    for known in MODES:
        if mode == known:
            return known
    raise typer.BadParameter(f"unknown mode {mode!r} (choose {', '.join(MODES)})", param_hint="--mode")


@app.command("eval")
def evaluate(
    tenant: str = _TENANT,
    data: Path = typer.Option(..., "--data", exists=True, dir_okay=False, help='JSONL: {"query", "relevant": [ids]}.'),
    as_json: bool = _JSON,
) -> None:
    """Recall@1/5/10 and MRR@10 of lexical, dense and hybrid retrieval, side by side."""
    labelled = load_labelled(data)
    # Enough chunks to rank 10 documents even when several chunks of one document come first.
    depth = RetrievalSettings().candidates
    found = _search(_tenant_id(tenant), [item.query for item in labelled], depth, MODES)
    results = {mode: score([document_ranking(p) for p in found[mode]], labelled) for mode in MODES}
    if as_json:
        typer.echo(json.dumps({mode: scores.as_dict() for mode, scores in results.items()}))
        return
    _print_scores(results)


def _print_scores(results: dict[Mode, Scores]) -> None:
    settings = RetrievalSettings()
    fusion = f"convex, lexical weight {settings.lexical_weight}" if settings.fusion == "convex" else "rrf"
    table = Table(title=f"{next(iter(results.values())).queries} queries; hybrid fusion: {fusion}")
    table.add_column("retrieval")
    for k in CUTOFFS:
        table.add_column(f"Recall@{k}", justify="right")
    table.add_column("MRR@10", justify="right")
    for mode, scores in results.items():
        table.add_row(mode, *(f"{scores.recall[k]:.3f}" for k in CUTOFFS), f"{scores.mrr_at_10:.3f}")
    Console().print(table)


@app.command("eval-drafts")
def evaluate_drafts(
    tenant: str = _TENANT,
    data: Path = typer.Option(
        ..., "--data", exists=True, dir_okay=False, help='JSONL: {"query", "relevant", "intent", "judged": [...]}.'
    ),
    generator: list[str] = typer.Option(["extractive", "openai"], "--generator", help="Generators compared."),
    sheet: Path | None = typer.Option(
        None, "--sheet", dir_okay=False, help="Write every generated sentence with its cited passage (to label)."
    ),
    as_json: bool = _JSON,
) -> None:
    """Answer rate, faithfulness (before and after the guard), fallback rate and p50/p99 per draft, side by side.

    Uses the retrieve-generate service's settings (`AIOS_RETRIEVE_GENERATE_*`: model server, budget, guard).
    """
    unknown = sorted(set(generator) - set(GENERATORS))
    if unknown:
        raise typer.BadParameter(f"unknown generator {', '.join(unknown)}", param_hint="--generator")
    items = load_draft_queries(data)
    settings = RetrieveGenerateSettings()
    texts = [redact(item.query).text for item in items]
    found = _search(_tenant_id(tenant), texts, settings.passages, (settings.mode,))[settings.mode]
    drafter = make_drafter(settings, load_encoder(), "kb-eval-drafts")
    try:
        tallies, rows = evaluate_draft_queries(items, found, texts, drafter, generator)
    finally:
        drafter.close()
    if sheet is not None:
        sheet.write_text("".join(json.dumps(row) + "\n" for row in rows))
    results = {name: tally.as_dict() for name, tally in tallies.items()}
    if as_json:
        typer.echo(json.dumps(results))
        return
    table = Table(title=f"{len(items)} queries, {settings.passages} passages each ({settings.mode})")
    table.add_column("")
    for name in results:
        table.add_column(name, justify="right")
    for key in next(iter(results.values())):
        table.add_row(key, *(_shown(results[name][key]) for name in results))
    Console().print(table)


def _shown(value: float | int | None) -> str:
    return "-" if value is None else str(value) if isinstance(value, int) else f"{value:.3f}"


@app.command("configure")
def configure(
    tenant: str = _TENANT,
    generator: str | None = typer.Option(None, "--generator", help=f"{' | '.join(GENERATORS)} | default"),
    no_draft: list[str] | None = typer.Option(
        None, "--no-draft", help="A label that gets no draft (repeat for several); replaces the tenant's list."
    ),
    draft_every_label: bool = typer.Option(False, "--draft-every-label", help="No label is skipped."),
    default_no_draft: bool = typer.Option(
        False, "--default-no-draft", help="Forget the tenant's list: the service's default applies again."
    ),
    intent: str | None = typer.Option(
        None, "--intent", help="Set --generator for this label only (`default`: it follows the tenant's again)."
    ),
    as_json: bool = _JSON,
) -> None:
    """How the tenant's drafts are made: the generator (for all labels or one), and the labels that get none."""
    if sum([bool(no_draft), draft_every_label, default_no_draft]) > 1:
        raise typer.BadParameter("give one of --no-draft, --draft-every-label, --default-no-draft")
    if intent is not None and generator is None:
        raise typer.BadParameter("--intent needs --generator", param_hint="--intent")
    labels = list(no_draft) if no_draft else [] if draft_every_label else None if default_no_draft else KEEP
    chosen = KEEP if generator is None else None if generator == "default" else generator
    tenant_id = _tenant_id(tenant)
    if intent is not None:
        label_generator = None if generator == "default" else generator
        _with_kb(lambda kb: kb.configure_label(tenant_id, intent, label_generator))
        chosen = KEEP
    row = _with_kb(lambda kb: kb.configure(tenant_id, chosen, labels))
    shown = {
        "tenant_id": tenant_id,
        "generator": row.generator or "default",
        "generator_by_intent": dict(row.generator_by_label),
        "no_draft_labels": list(row.no_draft_labels) if row.no_draft_labels is not None else "default",
    }
    typer.echo(json.dumps(shown) if as_json else "  ".join(f"{key}={value}" for key, value in shown.items()))


@app.command("endpoint")
def endpoint(
    tenant: str = _TENANT,
    url: str | None = typer.Option(None, "--url", help="Base URL up to /v1 of the tenant's OpenAI-compatible server."),
    model: str | None = typer.Option(None, "--model", help="The model name that server serves."),
    api_key_env: str | None = typer.Option(
        None, "--api-key-env", help="Environment variable holding the server's API key (never on the command line)."
    ),
    remove: bool = typer.Option(False, "--remove", help="Forget it: the service's server drafts again."),
) -> None:
    """The tenant's own server for the `openai` generator, stored sealed (admin only)."""
    if remove == (url is not None):
        raise typer.BadParameter("give --url and --model, or --remove")
    principal = admin_action("kb.endpoint")
    chosen: GeneratorEndpoint | None = None
    if url is not None:
        if model is None:
            raise typer.BadParameter("--url needs --model", param_hint="--model")
        api_key = None
        if api_key_env is not None:
            api_key = os.environ.get(api_key_env)
            if not api_key:
                raise typer.BadParameter(f"{api_key_env} is not set", param_hint="--api-key-env")
        chosen = GeneratorEndpoint(url, model, api_key)
    tenant_id = _tenant_id(tenant)
    _with_kb(lambda kb: kb.set_endpoint(tenant_id, chosen))
    shown = {"tenant_id": tenant_id, "url": url, "model": model, "api_key": bool(chosen and chosen.api_key)}
    record(principal, "kb.endpoint", shown)
    typer.echo("  ".join(f"{key}={value}" for key, value in shown.items()))
