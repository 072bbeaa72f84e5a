"""Pure decision logic: calibration, out-of-scope scores, operating points and top-k.

Kept free of torch and of the encoder so unit tests cover every rule on small arrays, and the
worker and the trainer apply exactly the same arithmetic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of `logits / temperature`, stable for large logits."""
    scaled = np.asarray(logits, dtype=np.float64) / temperature
    scaled -= scaled.max(axis=-1, keepdims=True)
    exp = np.exp(scaled)
    return exp / exp.sum(axis=-1, keepdims=True)


def fit_temperature(logits: np.ndarray, targets: np.ndarray) -> float:
    """Temperature minimising validation NLL (grid over 0.05..20): calibrates confidence, keeps the argmax."""
    if len(targets) == 0:
        return 1.0
    best_nll, best_t = np.inf, 1.0
    rows = np.arange(len(targets))
    for t in np.exp(np.linspace(np.log(0.05), np.log(20.0), 120)):
        nll = -np.mean(np.log(softmax(logits, t)[rows, targets] + 1e-12))
        if nll < best_nll:
            best_nll, best_t = nll, float(t)
    return best_t


def top_k(probs: np.ndarray, labels: Sequence[str], k: int) -> list[list[tuple[str, float]]]:
    """The `k` most probable labels per row, most probable first."""
    k = min(k, probs.shape[1])
    order = np.argsort(-probs, axis=1, kind="stable")[:, :k]
    return [[(labels[j], float(row[j])) for j in idx] for row, idx in zip(probs, order, strict=True)]


def mahalanobis_min(embeddings: np.ndarray, centroids: np.ndarray, precision: np.ndarray) -> np.ndarray:
    """Squared Mahalanobis distance to the nearest class centroid (shared covariance)."""
    # Expanded as x'Px - 2x'Pm + m'Pm: never materialises the (inputs x classes x dim) differences.
    projected = embeddings @ precision
    own = np.einsum("nd,nd->n", projected, embeddings)
    centroid_terms = np.einsum("cd,cd->c", centroids @ precision, centroids)
    return (own[:, None] - 2 * projected @ centroids.T + centroid_terms[None, :]).min(axis=1)


@dataclass(frozen=True)
class ScoreStats:
    """Mean and spread of each raw score on in-scope validation data, to add them on one scale."""

    msp_mean: float
    msp_std: float
    maha_mean: float
    maha_std: float


def raw_scores(in_scope_probs: np.ndarray, maha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Max in-scope probability and negated Mahalanobis distance: higher means more in-scope."""
    return in_scope_probs.max(axis=1), -maha


def fit_score_stats(msp: np.ndarray, neg_maha: np.ndarray) -> ScoreStats:
    return ScoreStats(float(msp.mean()), float(msp.std() + 1e-9), float(neg_maha.mean()), float(neg_maha.std() + 1e-9))


def in_scope_score(msp: np.ndarray, neg_maha: np.ndarray, stats: ScoreStats) -> np.ndarray:
    """Sum of the z-scored softmax confidence and centroid closeness.

    The two fail differently: softmax is overconfident far from the data, distance ignores which
    class boundary is near. Their sum rejected more out-of-scope queries than either alone.
    """
    return (msp - stats.msp_mean) / stats.msp_std + (neg_maha - stats.maha_mean) / stats.maha_std


def decide_oos(score: np.ndarray, threshold: float, predicted_oos: np.ndarray | None = None) -> np.ndarray:
    """Out of scope when the score is below the threshold or the model's own oos class wins."""
    rejected = np.asarray(score) < threshold
    if predicted_oos is not None:
        rejected |= np.asarray(predicted_oos, dtype=bool)
    return rejected


def operating_point(
    in_scope_correct: np.ndarray, in_scope_rejected: np.ndarray, oos_rejected: np.ndarray
) -> tuple[float, float]:
    """(in-scope accuracy, oos recall): an in-scope example counts only if right and not rejected."""
    accuracy = float(np.mean(in_scope_correct & ~in_scope_rejected)) if len(in_scope_correct) else 0.0
    recall = float(np.mean(oos_rejected)) if len(oos_rejected) else 0.0
    return accuracy, recall


def choose_threshold(
    score: np.ndarray,
    is_oos: np.ndarray,
    correct: np.ndarray,
    predicted_oos: np.ndarray | None = None,
    *,
    reject_rate_without_oos: float = 0.02,
) -> float:
    """The threshold maximising validation accuracy with out-of-scope counted as one more class.

    Without out-of-scope validation examples there is nothing to trade against, so the threshold
    rejects a small fixed share (`reject_rate_without_oos`) of in-scope validation inputs.
    """
    score = np.asarray(score, dtype=np.float64)
    is_oos = np.asarray(is_oos, dtype=bool)
    if not is_oos.any():
        return float(np.quantile(score, reject_rate_without_oos)) if len(score) else -np.inf
    forced = np.zeros(len(score), bool) if predicted_oos is None else np.asarray(predicted_oos, bool)
    best_hits, best_threshold = -1, -np.inf
    for threshold in np.concatenate([[-np.inf], np.unique(np.quantile(score, np.linspace(0, 0.6, 601)))]):
        rejected = (score < threshold) | forced
        hits = int(np.sum(correct[~is_oos] & ~rejected[~is_oos]) + np.sum(rejected[is_oos]))
        if hits > best_hits:
            best_hits, best_threshold = hits, float(threshold)
    return best_threshold
