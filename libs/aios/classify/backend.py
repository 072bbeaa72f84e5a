"""What the classify worker needs of an inference backend (in-process torch, or a Triton server)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from aios.classify.routes import ModelRef
from aios.inference.classifier import Prediction
from aios.inference.model_registry import ModelVersion


class InferenceBackend(Protocol):
    name: str
    """Recorded in every classification: `torch` or `triton`."""

    def prepare(self, versions: Iterable[ModelVersion]) -> set[ModelRef]:
        """Make these versions servable; returns the ones that are (a version that cannot load is left out)."""
        ...

    def release(self, keep: set[ModelRef]) -> None:
        """Free what is held for versions outside `keep` (no routing table points at them any more)."""
        ...

    def predict(self, model: ModelRef, texts: Sequence[str], k: int) -> list[Prediction]:
        """One prediction per text, in order, from one batched call."""
        ...
