"""Reciprocal rank fusion (Cormack et al., 2009): rankings merged by sum of 1 / (k + rank), ranks from 1.

It needs no score calibration between retrievers, which is why full-text rank and cosine
similarity can be merged at all. Ties go to the item with the better best rank, then to the
order of the first ranking it appears in, so the result is deterministic.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[K]], k: int = 60, limit: int | None = None
) -> list[tuple[K, float]]:
    """Items of every ranking with their fused score, best first; `limit` keeps the top ones."""
    scores: dict[K, float] = {}
    best: dict[K, tuple[int, int]] = {}
    for which, ranking in enumerate(rankings):
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
            best[item] = min(best.get(item, (rank, which)), (rank, which))
    ordered = sorted(scores, key=lambda item: (-scores[item], best[item]))
    return [(item, scores[item]) for item in ordered[:limit]]
