"""A registered version as a ready classifier, configured the same way wherever it serves (worker, Triton, CLI)."""

from __future__ import annotations

from aios.inference.classifier import TextClassifier
from aios.inference.integrity import check_artifact
from aios.inference.model_registry import ArtifactStore, ModelVersion
from aios.inference.settings import ModelSettings


def load_version(store: ArtifactStore, version: ModelVersion, settings: ModelSettings) -> TextClassifier:
    """Raises ArtifactTamperedError when the artifact's files are not those registered."""
    folder = store.fetch(version.artifact_uri)
    check_artifact(version.name, version.version, folder, version.artifact_sha256)
    classifier = TextClassifier.load(
        folder,
        device=settings.device,
        encoder_dir=settings.encoder_dir,
        max_length=settings.max_length,
    )
    classifier.batch_size = settings.batch_size
    return classifier
