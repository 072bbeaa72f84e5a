"""Reference distributions and the noise-corrected PSI on samples with and without drift."""

from __future__ import annotations

import random

import pytest

from aios.drift.distribution import CONFIDENCE_EDGES, Reference, confidence_bin, confidence_psi, label_psi
from aios.drift.errors import DriftError

LABELS = [f"intent_{i}" for i in range(150)]


def sample(rng: random.Random, labels: list[str], n: int) -> list[str]:
    return [rng.choice(labels) for _ in range(n)]


def test_confidence_bins_cover_zero_to_one() -> None:
    assert [confidence_bin(c) for c in (0.0, 0.05, 0.1, 0.55, 0.99, 1.0)] == [0, 0, 1, 5, 9, 9]
    assert len(CONFIDENCE_EDGES) == 11


def test_a_reference_survives_the_registry_json() -> None:
    reference = Reference.from_predictions(["a", "b", "b", "oos"], [0.9, 0.8, 0.95, 0.3])
    again = Reference.from_json(reference.to_json())
    assert again.n == 4 and again.labels == {"a": 0.25, "b": 0.5, "oos": 0.25}
    assert (again.confidence[9], again.confidence[8], again.confidence[3]) == (0.5, 0.25, 0.25)


@pytest.mark.parametrize(
    "broken",
    [{}, {"labels": {}, "confidence": [], "n": 1, "confidence_edges": [0, 1]}, {"labels": 3, "n": "x"}],
)
def test_a_malformed_reference_is_refused_with_the_reason(broken: dict) -> None:
    with pytest.raises(DriftError):
        Reference.from_json(broken)


def test_a_reference_needs_predictions() -> None:
    with pytest.raises(DriftError):
        Reference.from_predictions([], [])


@pytest.mark.parametrize("n", [1000, 5000])
def test_a_stable_stream_reads_about_zero_whatever_the_window(n: int) -> None:
    """150 labels: the raw PSI of a 1000-event window is about 0.19 from sampling noise alone."""
    rng = random.Random(n)
    reference = Reference.from_predictions(sample(rng, LABELS, 3000), [rng.uniform(0.6, 1) for _ in range(3000)])
    scores = [label_psi(reference, sample(rng, LABELS, n)) for _ in range(20)]
    assert max(scores) < 0.1


def test_a_stream_of_a_few_labels_reads_far_above_the_alert_threshold() -> None:
    rng = random.Random(1)
    reference = Reference.from_predictions(sample(rng, LABELS, 3000), [0.9] * 3000)
    assert label_psi(reference, sample(rng, LABELS[:10], 1000)) > 1.0


def test_a_moderate_shift_is_seen() -> None:
    """A third of the labels four times as frequent as the rest: true PSI 2 x (1/3) ln 2 = 0.46."""
    rng = random.Random(2)
    reference = Reference.from_predictions(sample(rng, LABELS, 3000), [0.9] * 3000)
    shifted = LABELS[:50] * 3 + LABELS
    assert 0.35 < label_psi(reference, sample(rng, shifted, 5000)) < 0.6


def test_falling_confidence_is_drift_even_when_labels_hold() -> None:
    rng = random.Random(3)
    confident = [rng.uniform(0.8, 1.0) for _ in range(3000)]
    reference = Reference.from_predictions(sample(rng, LABELS, 3000), confident)
    assert confidence_psi(reference, [rng.uniform(0.8, 1.0) for _ in range(500)]) < 0.05
    assert confidence_psi(reference, [rng.uniform(0.2, 0.7) for _ in range(500)]) > 1.0
