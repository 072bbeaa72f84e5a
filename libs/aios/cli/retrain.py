"""`aios model retrain`: a new version from the original data plus a tenant's reviewer labels, refused when worse.

Default data are the default model's (CLINC150: train to learn, val to calibrate, test as the fixed
holdout); `--data`, `--val-data` and `--holdout` name other files (CSV or JSONL, text and label).
`--every 24h` records a schedule instead, which the scheduler service (under `aios up`) runs.
"""

from __future__ import annotations

import json
from pathlib import Path

import asyncpg
import typer

from aios.cli.rollout import model_rollout
from aios.db.pool import run_on_database
from aios.inference.lifecycle import headline
from aios.inference.training import load_clinc150, load_examples
from aios.paths import project_root
from aios.policy.model import parse_duration
from aios.progress import training_bar
from aios.retraining.retrain import Data, Retrained, retrain
from aios.retraining.schedule import ScheduleStore
from aios.retraining.settings import RetrainSettings
from aios.tenants.store import TenantStore


def retrain_command(
    name: str = typer.Argument(..., help="Model name; production is what the new version must not be worse than."),
    tenant: str = typer.Option(..., "--tenant", help="Tenant name or id whose reviewer labels are added."),
    data: Path | None = typer.Option(None, "--data", exists=True, dir_okay=False, help="Original training data."),
    val_data: Path | None = typer.Option(None, "--val-data", exists=True, dir_okay=False, help="Calibration data."),
    holdout: Path | None = typer.Option(None, "--holdout", exists=True, dir_okay=False, help="Fixed holdout."),
    margin: float | None = typer.Option(None, "--margin", min=0, max=1, help="Default: AIOS_RETRAIN_MARGIN."),
    plan: Path | None = typer.Option(None, "--rollout-plan", exists=True, dir_okay=False, help="Then roll it out."),
    every: str | None = typer.Option(None, "--every", help="Schedule it (24h, 7d) for the scheduler service."),
    as_json: bool = typer.Option(False, "--json", help="JSON output, for scripts."),
) -> None:
    """Retrain NAME on its data plus TENANT's approvals and relabels; register it only if it holds up."""
    if every is not None:
        arguments = [
            f"--{option}={value.resolve() if isinstance(value, Path) else value}"
            for option, value in (
                ("data", data), ("val-data", val_data), ("holdout", holdout), ("margin", margin), ("rollout-plan", plan)
            )
            if value is not None
        ]  # fmt: skip
        _schedule(name, tenant, parse_duration(every), arguments, as_json)
        return
    chosen = _data(data, val_data, holdout)

    async def work(pool: asyncpg.Pool) -> Retrained:
        tenant_id = (await TenantStore(pool).resolve(tenant)).tenant_id
        with training_bar(enabled=not as_json) as on_step:
            return await retrain(
                pool, name, tenant_id, chosen, RetrainSettings().margin if margin is None else margin, on_step=on_step
            )

    done = run_on_database(work)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "name": name,
                    "version": done.version.version,
                    "feedback": done.feedback,
                    "holdout": {"production": done.production, "candidate": done.candidate},
                }
            )
        )
    else:
        typer.echo(f"registered {headline(done.version)} ({done.feedback} reviewer labels)")
        typer.echo(f"holdout: production {done.production}, new {done.candidate}")
    if plan is not None:
        model_rollout(name, done.version.version, plan, as_json, plot=None)


def _data(data: Path | None, val_data: Path | None, holdout: Path | None) -> Data:
    if data is None or holdout is None:
        splits = load_clinc150(project_root() / "data" / "clinc150" / "data_full.json")
        return Data(
            load_examples(data) if data else splits.train,
            load_examples(val_data) if val_data else splits.val if data is None else None,
            load_examples(holdout) if holdout else splits.test,
        )
    return Data(load_examples(data), load_examples(val_data) if val_data else None, load_examples(holdout))


def _schedule(name: str, tenant: str, every_s: int, arguments: list[str], as_json: bool) -> None:
    async def work(pool: asyncpg.Pool) -> tuple[str, str]:
        found = await TenantStore(pool).resolve(tenant)
        await ScheduleStore(pool).set(name, found.tenant_id, every_s, arguments)
        return found.tenant_id, found.name

    tenant_id, tenant_name = run_on_database(work)
    if as_json:
        typer.echo(json.dumps({"name": name, "tenant_id": tenant_id, "every_s": every_s, "arguments": arguments}))
    else:
        typer.echo(f"{name} for tenant {tenant_name}: retrained every {every_s}s by the scheduler service, first now")
