"""Field extractors: score each candidate of a field; the best one above a threshold is the field's value.

`RuleExtractor` scores by label synonyms and geometry alone (version `rules-1`); `LearnedExtractor` is a
gradient-boosted classifier over the same candidate features, trained on labelled documents (see `training`)
and stored as a version in the model registry.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from aios.documents.candidates import Candidate

RULES_VERSION = "rules-1"


class FieldExtractor(Protocol):
    version: str

    def score(self, field: str, candidates: Sequence[Candidate]) -> list[float]:
        """A probability-like score in [0, 1] per candidate that it is `field`'s value."""
        ...


class RuleExtractor:
    """The strongest label match among the inline label, the segment to the left and the segment above."""

    version = RULES_VERSION

    def score(self, field: str, candidates: Sequence[Candidate]) -> list[float]:
        return [self._one(field, c.features) for c in candidates]

    @staticmethod
    def _one(field: str, features: dict[str, float]) -> float:
        label = max(
            features.get(f"inline:{field}", 0.0),
            features.get(f"left:{field}", 0.0),
            0.9 * features.get(f"above:{field}", 0.0),
        )
        if field == "vendor_name" and label == 0.0 and features["first_page"] and features["y"] < 0.25:
            label = min(0.3 * features["size"], 0.6)
        if field in ("total", "claimed_amount"):
            label += 0.05 * features.get("amount_is_max", 0.0)
        return min(label, 1.0)
