"""Extractor versions in the model registry (the classifier's registry: versions, aliases, canary, shadow).

A version's artifact is a folder holding `extractor.json`; its version string is `NAME:VERSION`. Without a
registry (the CLI outside the stack, a first start) the weights bundled with the package serve, else the rules.
"""

from __future__ import annotations

import functools
import hashlib
import tempfile
from pathlib import Path
from typing import Any

from aios.documents.extractor import FieldExtractor, LearnedExtractor, RuleExtractor
from aios.inference.integrity import artifact_sha256, check_artifact
from aios.inference.model_registry import ArtifactStore, ModelRegistry, ModelVersion

EXTRACTOR_MODEL = "document-extractor"
"""The registry name the extract service resolves (`production`, `canary`, `shadow` aliases)."""
BUNDLED_WEIGHTS = Path(__file__).parent / "weights"
"""Trained on the generator's tuning layouts only (`make documents-weights` rebuilds it); see docs/documents.md."""


async def publish_extractor(
    registry: ModelRegistry,
    store: ArtifactStore,
    extractor: LearnedExtractor,
    *,
    name: str = EXTRACTOR_MODEL,
    data_sha256: str,
    metrics: dict[str, Any],
    promote_to: str | None = None,
) -> ModelVersion:
    """Store the weights as the next version of `name`; point `promote_to` at it when given."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        extractor.save(folder)
        row = await registry.register(
            name,
            lambda version: store.put(name, version, folder),
            data_sha256,
            metrics,
            extractor.fields,
            artifact_sha256(folder),
        )
    if promote_to is not None:
        await registry.promote(name, row.version, promote_to)
    return row


def load_registered(store: ArtifactStore, row: ModelVersion) -> LearnedExtractor:
    """Raises ArtifactTamperedError when the stored weights are not those registered."""
    folder = store.fetch(row.artifact_uri)
    check_artifact(row.name, row.version, folder, row.artifact_sha256)
    return LearnedExtractor.load(folder, f"{row.name}:{row.version}")


async def resolve_extractor(
    registry: ModelRegistry,
    store: ArtifactStore,
    *,
    name: str = EXTRACTOR_MODEL,
    alias: str = "production",
    tenant: str | None = None,
) -> LearnedExtractor:
    """The version `alias` points at (the tenant's own first), loaded."""
    return load_registered(store, await registry.resolve(name, alias, tenant))


@functools.cache
def default_extractor() -> FieldExtractor:
    """The bundled weights when the package has them, else the rules alone."""
    path = BUNDLED_WEIGHTS / LearnedExtractor.ARTIFACT
    if not path.exists():
        return RuleExtractor()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return LearnedExtractor.load(BUNDLED_WEIGHTS, f"bundled-{digest}")
