"""One retraining: original data + the tenant's reviewer labels in, a registered version (or a refusal) out.

The holdout is fixed by the caller and never trained on: a reviewer's example whose text is in it is
dropped from the training data. Production is scored on the same holdout in the same run, so the
comparison does not depend on how its stored metrics were computed. A version that loses more than
the margin on any headline figure is refused and nothing is registered.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from aios.feedback.export import labelled_examples
from aios.inference.lifecycle import artifact_store, publish
from aios.inference.loading import load_version
from aios.inference.model_registry import ModelRegistry, ModelVersion
from aios.inference.settings import ModelSettings
from aios.inference.training import Example, RecipeSettings, TrainingProgress, data_sha256, evaluate, train
from aios.retraining.errors import RetrainRefused
from aios.retraining.settings import HEADLINE


@dataclass(frozen=True)
class Data:
    """What a retraining starts from: the original training and calibration data, and the fixed holdout."""

    train: list[Example]
    val: list[Example] | None
    holdout: list[Example]


@dataclass(frozen=True)
class Retrained:
    version: ModelVersion
    production: dict[str, Any]
    candidate: dict[str, Any]
    feedback: int


def losses(production: dict[str, Any], candidate: dict[str, Any], margin: float) -> list[str]:
    """The headline figures on which the candidate is worse than production by more than `margin` (pure)."""
    found = []
    for name in HEADLINE:
        before, after = production.get(name), candidate.get(name)
        if (
            isinstance(before, int | float) and isinstance(after, int | float) and before - after > margin + 1e-9
        ):  # the tolerance absorbs float rounding
            found.append(f"{name} {after:.4f} against production's {before:.4f}")
    return found


def with_feedback(
    original: Sequence[Example], feedback: Sequence[Example], holdout: Sequence[Example]
) -> list[Example]:
    """The training data: original rows, then reviewers' rows whose text is not in the holdout."""
    held = {e.text for e in holdout}
    return [*original, *(e for e in feedback if e.text not in held)]


async def retrain(
    pool: asyncpg.Pool,
    name: str,
    tenant_id: str,
    data: Data,
    margin: float,
    *,
    recipe: RecipeSettings | None = None,
    on_step: TrainingProgress | None = None,
) -> Retrained:
    """Train on `data` plus the tenant's feedback; register the version unless it loses to production."""
    registry = ModelRegistry(pool)
    production = await registry.resolve(name)
    feedback = [Example(text, label) for text, label in await labelled_examples(pool, tenant_id)]
    examples = with_feedback(data.train, feedback, data.holdout)
    started = time.monotonic()
    result = train(examples, data.val, recipe, on_step=on_step)
    settings = ModelSettings()
    before = evaluate(load_version(artifact_store(), production, settings), data.holdout)
    after = evaluate(result.model, data.holdout)
    lost = losses(before, after, margin)
    if lost:
        raise RetrainRefused(
            f"{name} retrained on {len(examples) - len(data.train)} reviewer labels is worse than production "
            f"{name}:{production.version} on the holdout ({len(data.holdout)} examples) by more than {margin:g}: "
            + "; ".join(lost)
            + ". Not registered."
        )
    result.metrics.update(
        {
            "holdout": after,
            "production_holdout": {"version": production.version, **before},
            "feedback_examples": len(examples) - len(data.train),
            "tenant": tenant_id,
            "data_sha256_holdout": data_sha256(data.holdout),
            "total_seconds": round(time.monotonic() - started, 1),
        }
    )
    version = await publish(registry, artifact_store(), name, result)
    return Retrained(version, before, after, len(examples) - len(data.train))
