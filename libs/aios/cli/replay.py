"""`aios replay`: what a candidate model and/or policy would have done to a window of a tenant's recorded traffic.

Reads the topics (by timestamp) and the policy versions the record names; runs everything in this
process and writes nothing anywhere but the report.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import torch
import typer
from rich.console import Console
from rich.progress import Progress

from aios.db.pool import run_on_database
from aios.inference.classifier import TextClassifier
from aios.inference.lifecycle import artifact_store
from aios.inference.loading import load_version
from aios.inference.model_registry import ModelRegistry, ModelVersion, parse_ref
from aios.inference.settings import ModelSettings
from aios.kafka.serde import Codecs
from aios.kafka.timewindow import epoch_ms_of, parse_instant
from aios.kafka.topics import schema_bindings
from aios.policy.errors import PolicyNotFound
from aios.policy.loading import LoadedPolicy, load_policy_file
from aios.policy.store import PolicyStore
from aios.progress import COUNTING_COLUMNS
from aios.settings import ConnectionSettings
from aios.tenants.store import TenantStore
from aios.whatif.compare import compare
from aios.whatif.errors import ReplayError
from aios.whatif.recorded import Tracker, read_recorded
from aios.whatif.replay import Candidate, replay
from aios.whatif.report import html_report, print_report
from aios.whatif.settings import ReplaySettings


def replay_command(
    tenant: str = typer.Option(..., "--tenant", help="Tenant name or id."),
    since: str = typer.Option(..., "--since", help="Window start: ISO-8601 time, or a duration ago (24h, 7d)."),
    until: str | None = typer.Option(None, "--until", help="Window end: ISO-8601 time or a duration ago; default now."),
    model: str | None = typer.Option(None, "--model", help="Candidate model NAME:VERSION (or NAME: its production)."),
    policy: Path | None = typer.Option(None, "--policy", exists=True, dir_okay=False, help="Candidate policy file."),
    out: Path | None = typer.Option(None, "--out", dir_okay=False, help="Also write the report as an HTML page."),
    as_json: bool = typer.Option(False, "--json", help="The whole report as JSON, for scripts."),
) -> None:
    """Re-run TENANT's recorded events of a window through the candidate, side by side with what happened."""
    since_at, until_at = parse_instant(since), parse_instant(until) if until else None
    if until_at is not None and until_at <= since_at:
        raise ReplayError("--until must be after --since")
    settings, connection = ReplaySettings(), ConnectionSettings()
    candidate_policy = load_policy_file(policy) if policy else None

    async def prepare(pool: asyncpg.Pool) -> tuple[str, str, ModelVersion | None]:
        tenants = TenantStore(pool)
        found = await tenants.resolve(tenant)
        if (
            candidate_policy is not None
            and (await tenants.resolve(candidate_policy.tenant)).tenant_id != found.tenant_id
        ):
            raise ReplayError(f"{policy} is tenant {candidate_policy.tenant}'s policy, not {found.name}'s")
        return found.tenant_id, found.name, await _model_version(ModelRegistry(pool), model) if model else None

    tenant_id, tenant_name, model_row = run_on_database(prepare)
    codecs = Codecs(connection.schema_registry_url, carries=schema_bindings(settings))
    with _progress(enabled=not as_json) as track:
        events = read_recorded(
            settings,
            connection.kafka_bootstrap,
            codecs,
            tenant_id,
            epoch_ms_of(since_at),
            epoch_ms_of(until_at or datetime.now(UTC)),
            track,
        )
        recorded = _recorded_policies(tenant_id, {e.policy_version for e in events if e.policy_version})
        classifier = _classifier(model_row) if model_row else None
        replayed = replay(
            events,
            Candidate(candidate_policy, classifier),
            lambda event: recorded.get(event.policy_version or ""),
            track,
        )
    report = compare(replayed)
    candidate = ", ".join(
        part
        for part in (
            f"policy {candidate_policy.version}" if candidate_policy else "",
            f"model {model_row.name}:{model_row.version}" if model_row else "",
        )
        if part
    )
    window = (
        f"{since_at.isoformat(timespec='seconds')} to {until_at.isoformat(timespec='seconds') if until_at else 'now'}"
    )
    report = {
        "title": f"tenant {tenant_name}, {window}: {candidate or 'the recorded versions'} against what happened",
        "tenant": tenant_name,
        "since": since_at.isoformat(),
        "until": until_at.isoformat() if until_at else None,
        "candidate": {
            "policy": candidate_policy.version if candidate_policy else None,
            "model": f"{model_row.name}:{model_row.version}" if model_row else None,
        },
        **report,
    }
    if out is not None:
        out.write_text(html_report(report), encoding="utf-8")
    if as_json:
        typer.echo(json.dumps(report))
    else:
        print_report(report, Console())
        if out is not None:
            typer.echo(f"report written to {out}")


async def _model_version(registry: ModelRegistry, ref: str) -> ModelVersion:
    name, version = parse_ref(ref)
    return await registry.resolve(name) if version is None else await registry.get(name, version)


def _recorded_policies(tenant_id: str, versions: set[str]) -> dict[str, LoadedPolicy]:
    """The policy versions that decided the window's events ("none": the tenant had no policy)."""

    async def load(pool: asyncpg.Pool) -> dict[str, LoadedPolicy]:
        found = {}
        store = PolicyStore(pool)
        for version in versions:
            try:
                found[version] = await store.version(tenant_id, version)
            except PolicyNotFound:
                continue
        return found

    return run_on_database(load) if versions else {}


def _classifier(row: ModelVersion) -> TextClassifier:
    settings = ModelSettings()
    torch.set_num_threads(settings.threads)
    return load_version(artifact_store(), row, settings)


@contextmanager
def _progress(*, enabled: bool) -> Iterator[Tracker]:
    """One bar per stage (each topic read, the candidate model, the replay), drawn on stderr."""
    with Progress(*COUNTING_COLUMNS, console=Console(stderr=True), disable=not enabled) as progress:

        def track(description: str, total: int) -> Callable[[], None]:
            task = progress.add_task(description, total=total)
            return lambda: progress.advance(task)

        yield track
