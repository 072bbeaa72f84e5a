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


def nearest_similarity(embeddings: np.ndarray, bank: np.ndarray) -> np.ndarray:
    """Cosine similarity of each unit-length row to its nearest row of `bank`."""
    return (embeddings @ bank.T).max(axis=1)


def raw_scores(
    in_scope_logits: np.ndarray,
    maha: np.ndarray,
    logit_gap: np.ndarray | None = None,
    neighbour_gap: np.ndarray | None = None,
) -> np.ndarray:
    """The out-of-scope evidence, one column per signal, each oriented so that higher means more in-scope.

    The best in-scope logit (cosine to the nearest class vector: unlike softmax confidence it does
    not saturate far from the data) and the negated Mahalanobis distance always; with an `oos` class
    also the margin of the best in-scope logit over the `oos` logit and how much nearer the closest
    in-scope training row is than the closest `oos` training row. The last two use what the `oos`
    rows taught: a query near a known out-of-scope example is suspect even when it is near an intent.
    """
    columns = [in_scope_logits.max(axis=1), -maha]
    columns += [c for c in (logit_gap, neighbour_gap) if c is not None]
    return np.stack(columns, axis=1).astype(np.float64)


@dataclass(frozen=True)
class ScoreStats:
    """Mean and spread of each raw score column on in-scope validation data, to add them on one scale."""

    means: tuple[float, ...]
    stds: tuple[float, ...]


def fit_score_stats(raw: np.ndarray) -> ScoreStats:
    return ScoreStats(tuple(map(float, raw.mean(axis=0))), tuple(map(float, raw.std(axis=0) + 1e-9)))


def in_scope_score(raw: np.ndarray, stats: ScoreStats) -> np.ndarray:
    """Sum of the z-scored columns of `raw_scores`.

    The signals fail differently: softmax is overconfident far from the data, distance ignores which
    class boundary is near, the `oos` contrasts know only the few `oos` rows. Their sum rejected
    more out-of-scope queries than any one alone (docs/model-recipe.md).
    """
    return ((raw - np.asarray(stats.means)) / np.asarray(stats.stds)).sum(axis=1)


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


def choose_threshold(score: np.ndarray, correct: np.ndarray, forced: np.ndarray, review_budget: float) -> float:
    """The threshold at which a share `review_budget` of the `correct` validation rows is rejected.

    `correct` marks the in-scope rows the classifier gets right: rejecting one of them sends a good
    answer to review for nothing. Rows the `oos` class already takes (`forced`) spend the budget
    first; the threshold spends the rest on the lowest scores. How many out-of-scope inputs it
    then catches follows from how well the score separates them. Unlike maximising accuracy over
    the few out-of-scope validation rows, a quantile of thousands of in-scope rows moves little
    between validation and live traffic, and needs no out-of-scope rows at all.
    """
    correct, forced = np.asarray(correct, dtype=bool), np.asarray(forced, dtype=bool)
    left = review_budget * correct.sum() - (correct & forced).sum()
    kept = np.asarray(score, dtype=np.float64)[correct & ~forced]
    if left <= 0 or not len(kept):
        return -np.inf
    return float(np.quantile(kept, min(1.0, left / len(kept))))
