"""The in-process backend: classifiers loaded from the artifact store, run with torch on CPU or CUDA."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence

import torch

from aios.classify.routes import ModelRef
from aios.errors import AiosError
from aios.inference.classifier import Prediction, TextClassifier
from aios.inference.loading import load_version
from aios.inference.model_registry import ArtifactStore, ModelVersion
from aios.inference.settings import ModelSettings

log = logging.getLogger(__name__)


class TorchBackend:
    """Keeps the versions the routing table needs in memory; loads new ones before any batch is routed to them."""

    name = "torch"

    def __init__(self, store: ArtifactStore, settings: ModelSettings | None = None) -> None:
        self.store = store
        self.settings = settings or ModelSettings()
        torch.set_num_threads(self.settings.threads)
        self._models: dict[ModelRef, TextClassifier] = {}
        self._lock = threading.Lock()

    def prepare(self, versions: Iterable[ModelVersion]) -> set[ModelRef]:
        """Load every version not loaded yet (off the hot path); a version that fails to load is logged and left out."""
        servable = set()
        for version in versions:
            ref = ModelRef(version.name, version.version)
            if ref not in self._models:
                log.info("loading %s from %s", ref, version.artifact_uri)
                try:
                    classifier = load_version(self.store, version, self.settings)
                except AiosError as exc:
                    log.error("cannot load %s: %s", ref, exc)
                    continue
                with self._lock:
                    self._models = {**self._models, ref: classifier}
            servable.add(ref)
        return servable

    def release(self, keep: set[ModelRef]) -> None:
        with self._lock:
            self._models = {ref: model for ref, model in self._models.items() if ref in keep}

    def predict(self, model: ModelRef, texts: Sequence[str], k: int) -> list[Prediction]:
        with self._lock:
            classifier = self._models[model]
        return classifier.predict(texts, k=k)
