"""Alias writes in the model registry: every promotion and retirement is a new revision workers can see."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from aios.db.pool import open_pool
from aios.inference.errors import ModelNotFoundError
from aios.inference.model_registry import LocalArtifactStore, ModelRegistry
from aios.inference.training import TrainResult
from tests.support.tiny_models import publish


def test_retiring_an_alias_is_seen_by_revision_and_hidden_from_lookups(
    migrated_database: str, tmp_path: Path, tiny_versions: list[TrainResult]
) -> None:
    store = LocalArtifactStore(tmp_path)
    publish(migrated_database, store, "intents", tiny_versions[0], "production")

    async def scenario() -> None:
        async with open_pool(migrated_database, max_size=1) as pool:
            registry = ModelRegistry(pool)
            await registry.promote("intents", 1, "shadow")
            await registry.promote("intents", 1, "canary", tenant="acme", share=0.5)
            before = await registry.aliases_revision()

            retired = await registry.retire("intents", "shadow")
            assert retired.retired and retired.revision > before
            assert await registry.aliases_revision() == retired.revision
            assert [(r.alias, r.tenant) for r in await registry.aliases("intents")] == [
                ("canary", "acme"),
                ("production", None),
            ]
            assert [(r.alias, r.retired) for r in await registry.changed_since(before)] == [("shadow", True)]
            with pytest.raises(ModelNotFoundError):
                await registry.resolve("intents", "shadow")
            with pytest.raises(ModelNotFoundError):
                await registry.retire("intents", "shadow")  # already gone
            with pytest.raises(ModelNotFoundError):
                await registry.retire("intents", "canary")  # only acme has one

            again = await registry.promote("intents", 1, "shadow")
            assert not again.retired and (await registry.resolve("intents", "shadow")).version == 1

    asyncio.run(scenario())
