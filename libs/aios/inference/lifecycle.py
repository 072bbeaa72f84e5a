"""Train, register, promote: the one path a new model version takes, whether the CLI or the demo asks.

Registering stores the artifact folder under the next version number and records its metrics; promoting
points an alias at it, which running workers pick up on their next revision poll.
"""

from __future__ import annotations

import math
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aios.db.pool import run_on_database
from aios.inference.integrity import artifact_sha256
from aios.inference.model_registry import ArtifactStore, LocalArtifactStore, ModelRegistry, ModelVersion
from aios.inference.settings import ModelSettings
from aios.inference.training import (
    Example,
    RecipeSettings,
    TrainingProgress,
    TrainResult,
    evaluate,
    load_clinc150,
    train,
)

DEFAULT_MODEL = "intents"
"""The model the classify workers serve unless told otherwise."""


def artifact_store() -> LocalArtifactStore:
    return LocalArtifactStore(ModelSettings().artifact_dir)


def finite(value: Any) -> Any:
    """JSONB has no infinities: a threshold of -inf (never reject) is stored as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    return value


async def publish(
    registry: ModelRegistry, store: ArtifactStore, name: str, result: TrainResult, *, promote_to: str | None = None
) -> ModelVersion:
    """Store `result` as the next version of `name`; point the alias `promote_to` at it when given."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        result.model.save(folder)
        row = await registry.register(
            name,
            lambda version: store.put(name, version, folder),
            result.data_sha256,
            finite(result.metrics),
            result.model.labels,
            artifact_sha256(folder),
        )
    if promote_to is not None:
        await registry.promote(name, row.version, promote_to)
    return row


def register(name: str, result: TrainResult, *, promote_to: str | None = None) -> ModelVersion:
    """`publish` into the configured database (`AIOS_POSTGRES_DSN`) and artifact store."""
    store = artifact_store()
    return run_on_database(lambda pool: publish(ModelRegistry(pool), store, name, result, promote_to=promote_to))


def train_and_register(
    name: str,
    examples: Sequence[Example],
    val_examples: Sequence[Example] | None = None,
    recipe: RecipeSettings | None = None,
    *,
    test_examples: Sequence[Example] | None = None,
    promote_to: str | None = None,
    on_step: TrainingProgress | None = None,
) -> ModelVersion:
    """Train, score on `test_examples` when given, register, and promote to `promote_to` when given."""
    started = time.monotonic()
    result = train(examples, val_examples, recipe, on_step=on_step)
    if test_examples is not None:
        result.metrics["test"] = evaluate(result.model, test_examples)
    result.metrics["total_seconds"] = round(time.monotonic() - started, 1)
    return register(name, result, promote_to=promote_to)


def train_default_model(data: Path, *, promote: bool = True, on_step: TrainingProgress | None = None) -> ModelVersion:
    """The default `intents` model: CLINC150 train+oos_train+oos_val, calibrated on val, scored on test+oos_test."""
    splits = load_clinc150(data)
    return train_and_register(
        DEFAULT_MODEL,
        splits.train,
        splits.val,
        RecipeSettings(),
        test_examples=splits.test,
        promote_to="production" if promote else None,
        on_step=on_step,
    )


def headline(version: ModelVersion) -> str:
    """One line for a person: name:version, the figures that matter on the test set (else validation), time."""
    split = next((name for name in ("test", "validation") if version.metrics.get(name)), "")
    figures: dict[str, Any] = version.metrics.get(split, {}) if split else {}
    shown = [
        f"{label} {figures[key]:.1%}"
        for key, label in (
            ("accuracy", "accuracy"),
            ("in_scope_accuracy", "in-scope accuracy"),
            ("oos_recall", "out-of-scope recall"),
        )
        if isinstance(figures.get(key), float | int)
    ]
    if isinstance(figures.get("macro_f1"), float | int):
        shown.append(f"macro-F1 {figures['macro_f1']:.3f}")
    seconds = version.metrics.get("total_seconds") or version.metrics.get("train_seconds")
    took = f", trained in {seconds / 60:.1f} min" if isinstance(seconds, float | int) else ""
    on = f" on the {split} set ({figures.get('n', '?')} examples)" if shown else ""
    return f"{version.name}:{version.version}: {', '.join(shown) or 'no figures'}{on}{took}"
