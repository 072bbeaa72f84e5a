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
    stats = decision.ScoreStats(means=(0.5, -10.0), stds=(0.1, 2.0))
    assert decision.in_scope_score(np.array([[0.6, -8.0]]), stats)[0] == pytest.approx(2.0)


def test_fitted_stats_centre_and_scale_each_column() -> None:
    raw = np.array([[0.9, -3.0, 1.0], [0.7, -5.0, 3.0]])
    stats = decision.fit_score_stats(raw)
    assert stats.means == pytest.approx((0.8, -4.0, 2.0)) and stats.stds == pytest.approx((0.1, 1.0, 1.0))
    assert decision.in_scope_score(raw, stats) == pytest.approx([1.0 + 1.0 - 1.0, -1.0 - 1.0 + 1.0], abs=1e-6)


def test_raw_scores_orient_every_signal_towards_in_scope() -> None:
    logits = np.array([[9.0, 1.0], [5.0, 5.0]])
    maha = np.array([1.0, 9.0])
    assert decision.raw_scores(logits, maha).tolist() == [[9.0, -1.0], [5.0, -9.0]]
    with_oos = decision.raw_scores(logits, maha, np.array([2.0, -1.0]), np.array([0.3, -0.2]))
    assert with_oos.shape == (2, 4) and with_oos[:, 2:].tolist() == [[2.0, 0.3], [-1.0, -0.2]]


def test_nearest_similarity_is_the_best_cosine_in_the_bank() -> None:
    bank = np.array([[1.0, 0.0], [0.0, 1.0]])
    queries = np.array([[0.6, 0.8], [-1.0, 0.0]])
    assert decision.nearest_similarity(queries, bank) == pytest.approx([0.8, 0.0])


def test_choose_threshold_rejects_the_review_budget_of_correct_rows_only() -> None:
    score = np.concatenate([np.linspace(1, 2, 1000), [-5.0, -4.0]])
    correct = np.concatenate([np.ones(1000, bool), [False, False]])
    threshold = decision.choose_threshold(score, correct, np.zeros(1002, bool), review_budget=0.02)
    rejected = decision.decide_oos(score, threshold)
    assert np.mean(rejected[correct]) == pytest.approx(0.02, abs=0.002)
    assert rejected[~correct].all()  # rows it got wrong (or oos rows) cost nothing and are below it anyway


def test_rows_the_oos_class_takes_spend_the_budget_first() -> None:
    score = np.linspace(1, 2, 1000)
    correct = np.ones(1000, bool)
    forced = np.zeros(1000, bool)
    forced[-10:] = True  # 1 % already rejected by the oos class, whatever their score
    threshold = decision.choose_threshold(score, correct, forced, review_budget=0.03)
    assert np.mean(decision.decide_oos(score, threshold, forced)) == pytest.approx(0.03, abs=0.002)
    assert decision.choose_threshold(score, correct, forced, review_budget=0.005) == -np.inf


def test_choose_threshold_with_nothing_correct_rejects_nothing() -> None:
    assert decision.choose_threshold(np.array([0.1, 0.2]), np.zeros(2, bool), np.zeros(2, bool), 0.01) == -np.inf


def test_operating_point_counts_rejected_in_scope_as_wrong() -> None:
    accuracy, recall = decision.operating_point(
        np.array([True, True, False, True]), np.array([False, True, False, False]), np.array([True, False])
    )
    assert (accuracy, recall) == (0.5, 0.5)
