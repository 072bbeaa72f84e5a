"""`aios model`: train, evaluate, list and promote text classifiers kept in the model registry.

Each command opens a short-lived pool to `AIOS_POSTGRES_DSN` and applies pending migrations first.
Artifacts go to the local artifact store (`AIOS_MODEL_ARTIFACT_DIR`, default `.aios/models/`).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import torch
import typer

from aios.cli.access import admin_action, record
from aios.cli.retrain import retrain_command
from aios.cli.rollout import model_rollout
from aios.cli.tenants import resolve_tenant
from aios.db.pool import run_on_database
from aios.inference.classifier import TextClassifier
from aios.inference.lifecycle import artifact_store, headline, train_and_register, train_default_model
from aios.inference.loading import load_version
from aios.inference.model_registry import ALIASES, ModelRegistry, ModelVersion, parse_ref
from aios.inference.settings import ModelSettings
from aios.inference.training import RecipeSettings, evaluate, load_examples
from aios.paths import project_root
from aios.progress import training_bar

app = typer.Typer(no_args_is_help=True, help="Train, evaluate and promote text classifiers (model registry).")

T = TypeVar("T")

_JSON = typer.Option(False, "--json", help="JSON output, for scripts.")


def _with_registry(work: Callable[[ModelRegistry], Awaitable[T]]) -> T:
    return run_on_database(lambda pool: work(ModelRegistry(pool)))


def _load(ref: str) -> tuple[ModelVersion, TextClassifier]:
    name, version = parse_ref(ref)

    async def find(registry: ModelRegistry) -> ModelVersion:
        return await registry.resolve(name) if version is None else await registry.get(name, version)

    row = _with_registry(find)
    settings = ModelSettings()
    torch.set_num_threads(settings.threads)
    model = load_version(artifact_store(), row, settings)
    return row, model


def _recipe(epochs: float | None, finetune: bool | None) -> RecipeSettings:
    overrides: dict[str, Any] = {}
    if epochs is not None:
        overrides["epochs" if finetune is not False else "frozen_epochs"] = epochs
    if finetune is not None:
        overrides["finetune"] = finetune
    return RecipeSettings(**overrides)


@app.command("train")
def train_command(
    data: Path = typer.Option(..., "--data", exists=True, dir_okay=False, help="CSV or JSONL file."),
    text_col: str = typer.Option("text", "--text-col"),
    label_col: str = typer.Option("label", "--label-col"),
    name: str = typer.Option(..., "--name", help="Model name; each training adds its next version."),
    val_data: Path | None = typer.Option(None, "--val-data", help="Validation file; default: stratified hold-out."),
    epochs: float | None = typer.Option(None, "--epochs", help="Default: the recipe's (AIOS_MODEL_EPOCHS)."),
    finetune: bool | None = typer.Option(None, "--finetune/--frozen", help="Fine-tune the encoder (recipe default)."),
    as_json: bool = _JSON,
) -> None:
    """Train on a labelled file and register the result as a new version."""
    examples = load_examples(data, text_col, label_col)
    val = load_examples(val_data, text_col, label_col) if val_data else None
    with training_bar(enabled=not as_json) as on_step:
        row = train_and_register(name, examples, val, _recipe(epochs, finetune), on_step=on_step)
    _print_registered(row, as_json)


@app.command("train-default")
def train_default(
    data: Path = typer.Option(None, "--data", help="CLINC150 data_full.json; default: data/clinc150/data_full.json."),
    promote: bool = typer.Option(True, "--promote/--no-promote", help="Point `production` at the new version."),
    as_json: bool = _JSON,
) -> None:
    """The default `intents` model: CLINC150 train+oos_train+oos_val, calibrated on val, scored on test+oos_test."""
    with training_bar(enabled=not as_json) as on_step:
        row = train_default_model(
            data or project_root() / "data" / "clinc150" / "data_full.json", promote=promote, on_step=on_step
        )
    _print_registered(row, as_json)


def _print_registered(row: ModelVersion, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps({"name": row.name, "version": row.version, "metrics": row.metrics}))
        return
    typer.echo(f"registered {headline(row)}  {row.artifact_uri}")
    typer.echo(json.dumps(row.metrics, indent=2))


@app.command("predict")
def predict_command(
    ref: str = typer.Argument(..., help="NAME (its production alias) or NAME:VERSION."),
    data: Path = typer.Option(..., "--data", exists=True, dir_okay=False),
    text_col: str = typer.Option("text", "--text-col"),
    as_json: bool = _JSON,
) -> None:
    """Classify every row; one line per input, in input order."""
    _, model = _load(ref)
    texts = [e.text for e in load_examples(data, text_col, None)]
    for text, prediction in zip(texts, model.predict(texts), strict=True):
        if as_json:
            typer.echo(
                json.dumps({"text": text, "label": prediction.label, "confidence": round(prediction.confidence, 4)})
            )
        else:
            typer.echo(f"{prediction.label}\t{prediction.confidence:.3f}\t{text}")


@app.command("eval")
def eval_command(
    ref: str = typer.Argument(..., help="NAME (its production alias) or NAME:VERSION."),
    data: Path = typer.Option(..., "--data", exists=True, dir_okay=False),
    text_col: str = typer.Option("text", "--text-col"),
    label_col: str = typer.Option("label", "--label-col"),
    as_json: bool = _JSON,
) -> None:
    """Accuracy, macro-F1 and (with oos rows) in-scope accuracy and oos recall on a labelled file."""
    row, model = _load(ref)
    metrics = evaluate(model, load_examples(data, text_col, label_col))
    if as_json:
        typer.echo(json.dumps({"name": row.name, "version": row.version, "metrics": metrics}))
        return
    for key, value in metrics.items():
        typer.echo(f"{key:20s} {value}")


@app.command("list")
def list_command(as_json: bool = _JSON) -> None:
    """Every version with its aliases."""

    async def gather(registry: ModelRegistry) -> tuple[list[ModelVersion], list[Any]]:
        return await registry.versions(), await registry.aliases()

    versions, aliases = _with_registry(gather)
    rows: list[dict[str, Any]] = []
    for v in versions:
        pointing = [
            {"alias": a.alias, "tenant": a.tenant, "share": a.share}
            for a in aliases
            if a.name == v.name and a.version == v.version
        ]
        rows.append(
            {
                "name": v.name,
                "version": v.version,
                "created_at": v.created_at.isoformat(),
                "aliases": pointing,
                "artifact_uri": v.artifact_uri,
                "metrics": v.metrics,
            }
        )
    if as_json:
        typer.echo(json.dumps(rows))
        return
    for r in rows:
        tags = ", ".join(a["alias"] + (f"[{a['tenant']}]" if a["tenant"] else "") for a in r["aliases"])
        typer.echo(f"{r['name']}:{r['version']}  {r['created_at']}  {tags}")


@app.command("promote")
def promote_command(
    name: str = typer.Argument(...),
    version: int = typer.Argument(...),
    alias: str = typer.Option(..., "--alias", help=" | ".join(ALIASES)),
    share: float = typer.Option(1.0, "--share", min=0.0, max=1.0, help="Traffic share (canary)."),
    tenant: str | None = typer.Option(
        None, "--tenant", help="Tenant name or id: an alias for that tenant only; default: every tenant."
    ),
    as_json: bool = _JSON,
) -> None:
    """Point an alias at a version; running workers pick it up on their next revision poll (admin only)."""
    principal = admin_action("model.promote")
    tenant_id = resolve_tenant(tenant).tenant_id if tenant is not None else None
    row = _with_registry(lambda registry: registry.promote(name, version, alias, share=share, tenant=tenant_id))
    record(
        principal,
        "model.promote",
        {"model": name, "version": version, "alias": alias, "share": share, "tenant": tenant_id},
    )
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "name": row.name,
                    "alias": row.alias,
                    "tenant": row.tenant,
                    "version": row.version,
                    "share": row.share,
                    "revision": row.revision,
                }
            )
        )
        return
    typer.echo(f"{row.name} {row.alias}{f'[{row.tenant}]' if row.tenant else ''} -> {row.version} (share {row.share})")


@app.command("retire")
def retire_command(
    name: str = typer.Argument(...),
    alias: str = typer.Option(..., "--alias", help=" | ".join(ALIASES)),
    tenant: str | None = typer.Option(None, "--tenant", help="Tenant name or id whose own alias goes."),
) -> None:
    """Remove an alias (a finished shadow, a tenant back on the global model); workers follow within seconds
    (admin only)."""
    principal = admin_action("model.retire")
    tenant_id = resolve_tenant(tenant).tenant_id if tenant is not None else None
    row = _with_registry(lambda registry: registry.retire(name, alias, tenant=tenant_id))
    record(principal, "model.retire", {"model": name, "alias": alias, "tenant": tenant_id, "was": row.version})
    typer.echo(f"{row.name} {row.alias}{f'[{row.tenant}]' if row.tenant else ''} retired (was {row.version})")


app.command("rollout")(model_rollout)
app.command("retrain")(retrain_command)
