"""Small CLINC150 subsets and classifiers trained on them in seconds (frozen encoder), published to a registry."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

from aios.db.pool import open_pool
from aios.inference.encoder import SentenceEncoder
from aios.inference.lifecycle import publish as publish_version
from aios.inference.model_registry import LocalArtifactStore, ModelRegistry, ModelVersion
from aios.inference.training import Example, RecipeSettings, TrainResult, train
from aios.paths import project_root


@dataclass(frozen=True)
class ClincSubset:
    train: list[Example]
    val: list[Example]
    test: list[Example]
    """Held-out rows of the same intents plus out-of-scope rows: both kinds of answer occur."""


def clinc_subset(intents: int = 8, per_intent: int = 20, oos: int = 40) -> ClincSubset:
    data = json.loads((project_root() / "data" / "clinc150" / "data_full.json").read_text(encoding="utf-8"))
    chosen = sorted({label for _, label in data["train"]})[:intents]

    def pick(split: str, per: int, oos_rows: int) -> list[Example]:
        rows = [row for intent in chosen for row in [r for r in data[split] if r[1] == intent][:per]]
        return [Example(text, label) for text, label in rows + data[f"oos_{split}"][:oos_rows]]

    return ClincSubset(pick("train", per_intent, oos), pick("val", per_intent // 2, oos // 2), pick("test", 5, 10))


def train_versions(subset: ClincSubset, seeds: tuple[int, ...] = (0, 1)) -> list[TrainResult]:
    """One model per seed: the same data, different weights (a second promotion really serves new weights)."""
    encoder = SentenceEncoder.load()
    recipe = RecipeSettings(finetune=False, frozen_epochs=10)
    return [
        train(subset.train, subset.val, recipe.model_copy(update={"seed": seed}), encoder=encoder) for seed in seeds
    ]


def publish(dsn: str, store: LocalArtifactStore, name: str, result: TrainResult, alias: str | None) -> ModelVersion:
    """Register `result` as the next version of `name` and point `alias` (if any) at it."""

    async def scenario() -> ModelVersion:
        async with open_pool(dsn, max_size=1) as pool:
            return await publish_version(ModelRegistry(pool), store, name, result, promote_to=alias)

    return asyncio.run(scenario())
