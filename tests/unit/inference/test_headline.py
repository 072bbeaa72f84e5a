"""The one-line summary of a trained model the demo and `aios model train` print, instead of every metric."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aios.inference.lifecycle import headline
from aios.inference.model_registry import ModelVersion


def version(metrics: dict[str, Any]) -> ModelVersion:
    return ModelVersion("intents", 3, "file:///m", "sha", metrics, ["a"], datetime.now(UTC))


def test_the_headline_names_the_version_the_test_figures_and_the_time() -> None:
    metrics = {
        "validation": {"n": 10, "accuracy": 0.5},
        "test": {"n": 5500, "accuracy": 0.9412, "macro_f1": 0.9321, "in_scope_accuracy": 0.9567, "oos_recall": 0.8},
        "reference": {"labels": [0.1] * 150},
        "total_seconds": 412.0,
    }
    assert headline(version(metrics)) == (
        "intents:3: accuracy 94.1%, in-scope accuracy 95.7%, out-of-scope recall 80.0%, macro-F1 0.932 "
        "on the test set (5500 examples), trained in 6.9 min"
    )


def test_without_a_test_set_the_validation_figures_are_shown() -> None:
    summary = headline(version({"validation": {"n": 40, "accuracy": 0.75}, "train_seconds": 30}))
    assert summary == "intents:3: accuracy 75.0% on the validation set (40 examples), trained in 0.5 min"
