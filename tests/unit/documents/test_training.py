"""Training on reviewers' corrections raises the accuracy on a layout whose labels no list knows."""

from __future__ import annotations

import dataclasses

from aios.documents.extractor import LearnedExtractor
from aios.documents.labelled import Labelled, from_generated
from aios.documents.registry import default_extractor
from aios.documents.synthetic import HELD_OUT_LAYOUTS, LAYOUTS, Layout, dataset, generate, layout
from aios.documents.training import CORRECTION_WEIGHT, evaluate, train

UNSEEN_LABELS = {"invoice_number": "Belegkennung", "total": "Zu begleichen", "invoice_date": "Ausgestellt am"}
"""Printed labels that are in no synonym list and no generated layout."""


def odd_layout() -> Layout:
    base = layout(min(n for n in HELD_OUT_LAYOUTS if n % 2 == 0))
    return dataclasses.replace(base, labels={**base.labels, **UNSEEN_LABELS}, meta="label_value")


def documents(seeds: range) -> list[Labelled]:
    spec = odd_layout()
    return [from_generated(generate(seed, 0, spec=spec), f"odd-{seed}") for seed in seeds]


def test_corrections_of_a_layout_teach_its_labels(tmp_path: object) -> None:
    corrections, later = documents(range(0, 6)), documents(range(100, 106))
    before = evaluate(later, default_extractor())
    assert sum(before.field_correct[name] for name in UNSEEN_LABELS) < 0.7 * len(later) * len(UNSEEN_LABELS)

    base = [from_generated(g, f"base-{n}") for n, g in enumerate(dataset(list(range(0, LAYOUTS - 12, 2)), 1))]
    retrained = train(base + corrections, document_weights=[1.0] * len(base) + [CORRECTION_WEIGHT] * len(corrections))

    after = evaluate(later, retrained)
    assert all(after.field_correct[name] == len(later) for name in UNSEEN_LABELS), after.errors
    assert after.summary()["fields"] > before.summary()["fields"]


def test_weights_survive_a_save_and_load(tmp_path: object) -> None:
    from pathlib import Path

    extractor = default_extractor()
    assert isinstance(extractor, LearnedExtractor)
    folder = Path(str(tmp_path))
    extractor.save(folder)
    loaded = LearnedExtractor.load(folder, "copy")
    sample = generate(1, 0)
    assert (
        evaluate([from_generated(sample, "s")], loaded).summary()
        == evaluate([from_generated(sample, "s")], extractor).summary()
    )
