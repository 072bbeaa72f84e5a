"""Reference distributions and the population stability index (PSI) between two samples.

A model version's reference is what it predicted on its validation split at training time: the
share of each label and a histogram of confidences. It is stored with the version in the
registry (`metrics["reference"]`), so drift is measured against the version's own behaviour on
the data it was chosen on, never against another version's.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aios.drift.errors import DriftError

CONFIDENCE_EDGES = tuple(round(i / 10, 1) for i in range(11))
"""Ten equal confidence bins over [0, 1]."""
SMOOTHING = 0.5
"""Added to every count, so an empty bin has a finite log ratio."""


def confidence_bin(confidence: float) -> int:
    """The bin of CONFIDENCE_EDGES a confidence falls in (1.0 in the last)."""
    return min(len(CONFIDENCE_EDGES) - 2, max(0, int(confidence * (len(CONFIDENCE_EDGES) - 1))))


@dataclass(frozen=True)
class Reference:
    """Label shares and confidence-bin shares of `n` predictions."""

    labels: Mapping[str, float]
    confidence: tuple[float, ...]
    n: int

    @classmethod
    def from_predictions(cls, labels: Sequence[str], confidences: Sequence[float]) -> Reference:
        if not labels or len(labels) != len(confidences):
            raise DriftError("a reference needs one confidence per predicted label, and at least one prediction")
        n = len(labels)
        label_counts = Counter(labels)
        bins = Counter(confidence_bin(c) for c in confidences)
        return cls(
            labels={label: count / n for label, count in sorted(label_counts.items())},
            confidence=tuple(bins.get(i, 0) / n for i in range(len(CONFIDENCE_EDGES) - 1)),
            n=n,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "source": "validation predictions",
            "n": self.n,
            "labels": {label: round(share, 6) for label, share in self.labels.items()},
            "confidence_edges": list(CONFIDENCE_EDGES),
            "confidence": [round(share, 6) for share in self.confidence],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Reference:
        try:
            if list(data["confidence_edges"]) != list(CONFIDENCE_EDGES):
                raise DriftError(f"unknown confidence bins {data['confidence_edges']}")
            return cls(
                labels={str(k): float(v) for k, v in data["labels"].items()},
                confidence=tuple(float(v) for v in data["confidence"]),
                n=int(data["n"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise DriftError(f"malformed reference distribution: {exc!r}") from exc


def psi(expected: Mapping[str, float], n_expected: int, observed: Mapping[str, int]) -> float:
    """PSI of observed counts against expected shares, less what sampling noise alone gives.

    Both sides are smoothed counts over the union of categories. Two samples of one
    distribution have a PSI of about (K - 1)(1/n + 1/n_expected) for K categories (the PSI is
    close to a chi-square statistic over n); that is subtracted, so a stable stream reads about
    0 whatever the window's size, and the usual thresholds (0.1 watch, 0.25 act) keep their meaning.
    """
    n_observed = sum(observed.values())
    if n_observed == 0 or n_expected <= 0:
        return 0.0
    categories = sorted(set(expected) | set(observed))
    k = len(categories)
    total = 0.0
    for category in categories:
        e = (expected.get(category, 0.0) * n_expected + SMOOTHING) / (n_expected + SMOOTHING * k)
        a = (observed.get(category, 0) + SMOOTHING) / (n_observed + SMOOTHING * k)
        total += (a - e) * math.log(a / e)
    noise = (k - 1) * (1 / n_observed + 1 / n_expected)
    return max(0.0, total - noise)


def label_psi(reference: Reference, labels: Sequence[str]) -> float:
    return psi(reference.labels, reference.n, Counter(labels))


def confidence_psi(reference: Reference, confidences: Sequence[float]) -> float:
    expected = {str(i): share for i, share in enumerate(reference.confidence)}
    observed = Counter(str(confidence_bin(c)) for c in confidences)
    return psi(expected, reference.n, observed)
