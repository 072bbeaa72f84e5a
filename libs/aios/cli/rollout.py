"""`aios model rollout` and `aios policy rollout`: walk a plan, judged at every step, rolled back on a failure.

The rollout runs in this process and keeps its state in PostgreSQL: run the same command again after
an interruption and it resumes at the step it was on. `aios model rollout status` shows every recent
rollout, model and policy alike.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import asyncpg
import typer
from rich.console import Console
from rich.table import Table

from aios.cli.access import admin_action, record
from aios.db.pool import run_on_database
from aios.inference.model_registry import ModelRegistry
from aios.kafka.serde import Codecs
from aios.kafka.topics import schema_bindings
from aios.policy.loading import load_policy_file
from aios.policy.store import PolicyStore
from aios.rollout.criteria import Measurements
from aios.rollout.errors import RolloutError
from aios.rollout.measure import ModelCandidate, Sources, measure, measure_policy
from aios.rollout.plan import Plan, Step, load_plan
from aios.rollout.runner import walk
from aios.rollout.settings import RolloutSettings
from aios.rollout.store import Kind, Rollout, RolloutStore
from aios.rollout.targets import ModelAliases, Target, TenantPolicy, check_policy_plan
from aios.rollout.timeline import timeline_svg
from aios.settings import ConnectionSettings
from aios.tenants.store import TenantStore
from aios.whatif.settings import ReplaySettings

_console = Console(stderr=True)
PLOTTED = 4
"""Recent rollouts drawn by `status --plot`."""


def model_rollout(
    name: str = typer.Argument(..., help="Model name, or `status` to show where rollouts stand."),
    version: int | None = typer.Argument(None, help="The candidate version."),
    plan_file: Path | None = typer.Option(None, "--plan", exists=True, dir_okay=False, help="e.g. plans/intents.yaml"),
    as_json: bool = typer.Option(False, "--json", help="JSON output, for scripts."),
    plot: Path | None = typer.Option(None, "--plot", dir_okay=False, help="status: timeline of recent rollouts (SVG)."),
) -> None:
    """Walk NAME:VERSION through the plan's steps (shadow, then traffic shares), promoting or rolling back."""
    if name == "status":
        _status(as_json, plot)
        return
    if version is None or plan_file is None:
        raise RolloutError("give NAME VERSION --plan FILE (or `status`)")
    principal = admin_action("model.rollout")
    plan, settings, connection = load_plan(plan_file), RolloutSettings(), ConnectionSettings()
    sources = _sources(settings, connection)
    candidate = ModelCandidate(name, version)

    async def run(pool: asyncpg.Pool) -> Rollout:
        registry = ModelRegistry(pool)
        await registry.get(name, version)
        target = ModelAliases(registry, name, version)

        async def measured(step: Step, since_s: float) -> Measurements:
            alias = "shadow" if step.shadow else "canary" if step.share < 1 else "production"
            window = time.time() - since_s
            return await asyncio.to_thread(
                measure, sources, candidate, alias, plan.criteria, int(since_s * 1000), window
            )

        rollout = await _started(pool, "model", name, str(version), plan, target)
        return await walk(pool, rollout, target, measured, None if as_json else _print_judged)

    record(principal, "model.rollout", {"model": name, "version": version, "plan": str(plan_file)})
    _report(run_on_database(run, max_size=4), as_json)


def policy_rollout(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="The candidate policy file."),
    plan_file: Path = typer.Option(..., "--plan", exists=True, dir_okay=False, help="e.g. plans/policy.yaml"),
    as_json: bool = typer.Option(False, "--json", help="JSON output, for scripts."),
) -> None:
    """Shadow-evaluate FILE on the tenant's live events beside the active version, then make it active."""
    principal = admin_action("policy.rollout")
    plan, loaded = load_plan(plan_file), load_policy_file(file)
    check_policy_plan(plan)
    settings, connection = RolloutSettings(), ConnectionSettings()
    sources = _sources(settings, connection)
    replay_settings = ReplaySettings()

    async def run(pool: asyncpg.Pool) -> Rollout:
        tenant_id = (await TenantStore(pool).resolve(loaded.tenant)).tenant_id
        target = TenantPolicy(PolicyStore(pool), tenant_id, loaded)

        async def measured(_step: Step, since_s: float) -> Measurements:
            return await asyncio.to_thread(
                measure_policy, replay_settings, sources, tenant_id, loaded, int(since_s * 1000)
            )

        rollout = await _started(pool, "policy", tenant_id, loaded.version, plan, target)
        return await walk(pool, rollout, target, measured, None if as_json else _print_judged)

    record(principal, "policy.rollout", {"tenant": loaded.tenant, "version": loaded.version, "file": str(file)})
    _report(run_on_database(run, max_size=4), as_json)


async def _started(pool: asyncpg.Pool, kind: Kind, name: str, version: str, plan: Plan, target: Target) -> Rollout:
    """The running rollout of this version, resumed; else a new one, with what it would restore."""
    store = RolloutStore(pool)
    running = await store.running(kind, name)
    if running is not None and running.version == version:
        _console.print(f"resuming rollout {running.rollout_id} at step {running.plan.steps[running.step].name}")
        return running
    return await store.start(kind, name, version, plan, await target.snapshot())


def _sources(settings: RolloutSettings, connection: ConnectionSettings) -> Sources:
    return Sources(
        connection.kafka_bootstrap,
        Codecs(connection.schema_registry_url, carries=schema_bindings(settings, ReplaySettings())),
        settings.classified_topic,
        settings.completed_topic,
        connection.prometheus_url if settings.prometheus_url is None else settings.prometheus_url,
    )


def _print_judged(rollout: Rollout, step: Step, measured: Measurements, failures: list[str]) -> None:
    figures = ", ".join(f"{k} {v}" for k, v in measured.as_json().items() if v is not None)
    verdict = "[red]fails: " + "; ".join(failures) + "[/red]" if failures else "holds"
    _console.print(f"{rollout.kind} {rollout.name}:{rollout.version} step {step.name} ({figures}): {verdict}")


def _report(rollout: Rollout, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(rollout.as_json()))
    elif rollout.state == "promoted":
        typer.echo(f"{rollout.kind} {rollout.name}:{rollout.version} promoted ({rollout.reason})")
    else:
        typer.secho(f"{rollout.kind} {rollout.name}:{rollout.version} rolled back: {rollout.reason}", fg="red")
    if rollout.state != "promoted":
        raise typer.Exit(3)


def _status(as_json: bool, plot: Path | None) -> None:
    async def work(pool: asyncpg.Pool) -> list[tuple[Rollout, list[dict[str, Any]]]]:
        store = RolloutStore(pool)
        return [(r, await store.history(r.rollout_id)) for r in await store.recent()]

    found = run_on_database(work)
    if plot is not None:
        plot.write_text(timeline_svg(found[:PLOTTED][::-1]), encoding="utf-8")
    rows = [{**r.as_json(), "history": history} for r, history in found]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    table = Table(title="Rollouts, newest first")
    for column in ("id", "kind", "name", "version", "state", "step", "since", "reason"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(
            str(r["rollout_id"]),
            str(r["kind"]),
            str(r["name"]),
            str(r["version"]),
            str(r["state"]),
            f"{r['step_name']} ({r['share']:g})",
            str(r["step_started_at"])[:19],
            str(r["reason"] or ""),
        )
    Console().print(table)
