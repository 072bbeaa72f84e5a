"""The pure decision rules: calibration, out-of-scope scores and thresholds, top-k."""

from __future__ import annotations

import numpy as np
import pytest

from aios.inference import decision


def test_softmax_rows_sum_to_one_and_temperature_sharpens() -> None:
    logits = np.array([[2.0, 1.0, 0.0], [1000.0, 0.0, 0.0]])
    probs = decision.softmax(logits)
    assert np.allclose(probs.sum(axis=1), 1.0)
    assert probs[1, 0] == pytest.approx(1.0)
    assert decision.softmax(logits, 0.5)[0, 0] > probs[0, 0] > decision.softmax(logits, 2.0)[0, 0]


def test_fit_temperature_undoes_a_known_overconfidence() -> None:
    rng = np.random.default_rng(0)
    true_logits = rng.normal(size=(4000, 5)) * 2
    targets = np.array([rng.choice(5, p=p) for p in decision.softmax(true_logits)])
    assert decision.fit_temperature(true_logits * 3, targets) == pytest.approx(3.0, rel=0.15)


def test_top_k_is_sorted_and_capped_at_the_label_count() -> None:
    probs = np.array([[0.1, 0.7, 0.2]])
    assert decision.top_k(probs, ["a", "b", "c"], 2) == [[("b", 0.7), ("c", 0.2)]]
    assert len(decision.top_k(probs, ["a", "b", "c"], 10)[0]) == 3


def test_decide_oos_rejects_low_scores_and_the_oos_class() -> None:
    score = np.array([0.5, -1.0, 2.0])
    assert decision.decide_oos(score, 0.0).tolist() == [False, True, False]
    assert decision.decide_oos(score, 0.0, np.array([False, False, True])).tolist() == [False, True, True]


def test_mahalanobis_with_identity_precision_is_squared_distance_to_nearest_centroid() -> None:
    centroids = np.array([[0.0, 0.0], [10.0, 0.0]])
    points = np.array([[1.0, 1.0], [9.0, 0.0]])
    assert decision.mahalanobis_min(points, centroids, np.eye(2)).tolist() == [2.0, 1.0]


def test_in_scope_score_adds_z_scores() -> None:
    stats = decision.ScoreStats(msp_mean=0.5, msp_std=0.1, maha_mean=-10.0, maha_std=2.0)
    assert decision.in_scope_score(np.array([0.6]), np.array([-8.0]), stats)[0] == pytest.approx(2.0)


def test_choose_threshold_separates_oos_when_scores_allow() -> None:
    score = np.array([5.0, 4.0, 3.0, 0.5, 0.2])
    is_oos = np.array([False, False, False, True, True])
    correct = np.array([True, True, True, False, False])
    threshold = decision.choose_threshold(score, is_oos, correct)
    assert 0.5 < threshold <= 3.0
    rejected = decision.decide_oos(score, threshold)
    assert decision.operating_point(correct[~is_oos], rejected[~is_oos], rejected[is_oos]) == (1.0, 1.0)


def test_choose_threshold_without_oos_rejects_a_small_share() -> None:
    score = np.linspace(0, 1, 101)
    threshold = decision.choose_threshold(score, np.zeros(101, bool), np.ones(101, bool), reject_rate_without_oos=0.05)
    assert np.mean(score < threshold) == pytest.approx(0.05, abs=0.01)


def test_operating_point_counts_rejected_in_scope_as_wrong() -> None:
    accuracy, recall = decision.operating_point(
        np.array([True, True, False, True]), np.array([False, True, False, False]), np.array([True, False])
    )
    assert (accuracy, recall) == (0.5, 0.5)
