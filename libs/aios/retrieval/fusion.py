"""Fusing the lexical and the dense ranking: a convex combination of scores (default) or reciprocal rank fusion.

Convex: score = (1 - w) * cosine + w * BM25 / (the query's best BM25), over the union of both
candidate lists, each chunk with its exact cosine. Bruch, Gai and Ingber ("An Analysis of Fusion
Functions for Hybrid Retrieval", ACM TOIS 2023) found it better than RRF and its one weight cheap
to fit on a few hundred labelled queries. Here RRF, giving both rankings the same say, let the much
weaker lexical ranking pull good dense rankings down; the weight is chosen on the demo's
validation queries (README, "Knowledge bases and drafts").

RRF (Cormack et al., 2009): rankings merged by sum of 1 / (k + rank), ranks from 1; it needs no
score calibration at all. Both break ties deterministically.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


def convex_fusion(
    lexical: Sequence[tuple[K, float]],
    dense: Mapping[K, float],
    lexical_weight: float,
    limit: int | None = None,
) -> list[tuple[K, float]]:
    """Every item of `dense` (which must score every lexical item too) by the weighted sum, best first.

    Lexical scores are divided by the best of them, so they lie in [0, 1] as cosines of unit vectors
    mostly do; an item the lexical search did not return counts 0 there. Ties go to the higher cosine,
    then to the order of `dense`.
    """
    best = max((score for _, score in lexical), default=0.0)
    normalised = {item: score / best for item, score in lexical} if best > 0 else {}
    rows = [
        ((1 - lexical_weight) * cosine + lexical_weight * normalised.get(item, 0.0), cosine, -position, item)
        for position, (item, cosine) in enumerate(dense.items())
    ]
    rows.sort(key=lambda row: row[:3], reverse=True)
    return [(item, score) for score, _, _, item in rows[:limit]]


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[K]], k: int = 60, limit: int | None = None
) -> list[tuple[K, float]]:
    """Items of every ranking with their fused score, best first; `limit` keeps the top ones.

    Ties go to the item with the better best rank, then to the order of the first ranking it appears in.
    """
    scores: dict[K, float] = {}
    best: dict[K, tuple[int, int]] = {}
    for which, ranking in enumerate(rankings):
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
            best[item] = min(best.get(item, (rank, which)), (rank, which))
    ordered = sorted(scores, key=lambda item: (-scores[item], best[item]))
    return [(item, scores[item]) for item in ordered[:limit]]
