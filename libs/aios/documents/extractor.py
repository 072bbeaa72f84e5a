"""Field extractors: score each candidate of a field; the best one above a threshold is the field's value.

`RuleExtractor` scores by label synonyms and geometry alone (version `rules-1`); `LearnedExtractor` is a
gradient-boosted classifier over the same candidate features, trained on labelled documents (see `training`)
and stored as a version in the model registry.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from aios.documents.candidates import Candidate
from aios.documents.errors import ExtractorModelError

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


OTHER_FIELDS_LABEL = 0.5
"""What a score keeps when the value's own label names another field exactly ("Due date:" before a date
scored as the invoice date): the nearest label is the strongest evidence there is, whatever else the
learnt weights saw around it."""


def _labelled_as_another(field: str, features: dict[str, float]) -> bool:
    own = features.get(f"inline:{field}", 0.0)
    return own < 1.0 and any(
        value >= 1.0 for name, value in features.items() if name.startswith("inline:") and name != f"inline:{field}"
    )


class LearnedExtractor:
    """Per-field logistic regression over the candidate features plus the rules' own score.

    Weights are plain JSON (no pickle): a registry artifact is a folder with `extractor.json`.
    """

    ARTIFACT = "extractor.json"

    def __init__(self, weights: dict[str, Any], version: str) -> None:
        self.version = version
        self.feature_names: list[str] = list(weights["features"])
        self._index = {name: i for i, name in enumerate(self.feature_names)}
        self._fields = {
            name: (np.asarray(w["coef"], dtype=np.float64), float(w["intercept"]))
            for name, w in weights["fields"].items()
        }
        self._rules = RuleExtractor()

    @property
    def fields(self) -> list[str]:
        """The fields this model scores (others fall back to the rules)."""
        return sorted(self._fields)

    def vector(self, field: str, candidate: Candidate) -> np.ndarray:
        row = np.zeros(len(self.feature_names))
        for name, value in candidate.features.items():
            index = self._index.get(name)
            if index is not None:
                row[index] = value
        row[self._index[RULE_FEATURE]] = self._rules.score(field, [candidate])[0]
        return row

    def score(self, field: str, candidates: Sequence[Candidate]) -> list[float]:
        if field not in self._fields:
            return self._rules.score(field, candidates)
        if not candidates:
            return []
        coef, intercept = self._fields[field]
        matrix = np.stack([self.vector(field, c) for c in candidates])
        learnt = 1.0 / (1.0 + np.exp(-(matrix @ coef + intercept)))
        # The rules stay a floor: a label the model has not seen often enough still counts, while a value the model
        # learnt from corrections (probability near 1) outranks a rule's wrong guess (at most RULE_WEIGHT).
        rules = RULE_WEIGHT * matrix[:, self._index[RULE_FEATURE]]
        return [
            float(p) * (OTHER_FIELDS_LABEL if _labelled_as_another(field, c.features) else 1.0)
            for p, c in zip(np.maximum(learnt, rules), candidates, strict=True)
        ]

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        weights = {
            "features": self.feature_names,
            "fields": {name: {"coef": coef.tolist(), "intercept": b} for name, (coef, b) in self._fields.items()},
        }
        (folder / self.ARTIFACT).write_text(json.dumps(weights))

    @classmethod
    def load(cls, folder: Path, version: str) -> LearnedExtractor:
        path = folder / cls.ARTIFACT
        try:
            return cls(json.loads(path.read_text()), version)
        except (OSError, ValueError, KeyError) as exc:
            raise ExtractorModelError(f"cannot load extractor weights from {path}: {exc}") from exc


RULE_FEATURE = "rule_score"
RULE_WEIGHT = 0.9
