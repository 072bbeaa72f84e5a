"""What a retrained version must hold to be registered, and what it is trained on."""

from __future__ import annotations

from aios.inference.training import Example
from aios.retraining.retrain import losses, with_feedback


def test_a_loss_beyond_the_margin_on_any_headline_figure_refuses() -> None:
    production = {"n": 50, "accuracy": 0.8, "macro_f1": 0.75, "in_scope_accuracy": 0.9, "oos_recall": 0.8}
    assert losses(production, {**production, "accuracy": 0.79, "oos_recall": 0.7}, margin=0.1) == []
    assert losses(production, {**production, "macro_f1": 0.6}, margin=0.1) == [
        "macro_f1 0.6000 against production's 0.7500"
    ]
    assert losses(production, {"accuracy": 0.5}, margin=0.02) == ["accuracy 0.5000 against production's 0.8000"]


def test_reviewer_examples_of_holdout_texts_are_never_trained_on() -> None:
    original = [Example("a", "x")]
    feedback = [Example("b", "y"), Example("held", "z")]
    assert with_feedback(original, feedback, [Example("held", "z")]) == [Example("a", "x"), Example("b", "y")]
