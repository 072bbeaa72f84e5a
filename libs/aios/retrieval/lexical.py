"""BM25 over PostgreSQL's tsvectors: per-tenant term statistics held by KB revision, and bounded candidate sets.

`ts_rank` knows nothing of how common a word is in the tenant's knowledge base, so "card" weighs
as much as "stolen". BM25 (Robertson et al.) weighs each query term by its inverse chunk frequency
and saturates repeated terms; the frequencies come from `ts_stat` over the tenant's chunks, read
once per KB revision (like the dense matrices) rather than per query.

Cost is bounded by a budget: PostgreSQL can find matching chunks through the GIN index but not
order them, so every candidate is scored. Candidates are the chunks holding the query's rarest
terms, taken while their chunk frequencies add up to at most the budget (at least the rarest
term, capped at the budget); the commoner terms still count in every candidate's score. A chunk
holding only common terms is the one BM25 ranks lowest, so leaving it out changes little, and a
query whose terms all together match no more than the budget is scored exactly.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Bm25:
    k1: float
    """Term-frequency saturation."""
    b: float
    """Length normalisation (0: none, 1: full)."""
    title_weight: float
    """What one occurrence of a word in the document's title counts for, against one in the chunk's text."""


@dataclass(frozen=True)
class TermStatistics:
    """A tenant's chunk count, mean chunk length (distinct lexemes) and each lexeme's chunk frequency, at a revision."""

    revision: int
    chunks: int
    mean_length: float
    frequency: Mapping[str, int]


@dataclass(frozen=True)
class LexicalPlan:
    """One query's lexical search, ready for the store."""

    tenant_id: str
    candidate_terms: tuple[str, ...]
    """Lexemes whose chunks are the candidates (the rarest ones)."""
    weights: Mapping[str, float]
    """Inverse chunk frequency of every query lexeme the knowledge base holds: what each adds to a score."""
    mean_length: float


def idf(chunks: int, frequency: int) -> float:
    """BM25's inverse frequency in its non-negative form, log(1 + (N - n + 0.5) / (n + 0.5))."""
    return math.log(1 + (chunks - frequency + 0.5) / (frequency + 0.5))


def plan(tenant_id: str, terms: Sequence[str], stats: TermStatistics, budget: int) -> LexicalPlan | None:
    """The search for these query lexemes; None when the knowledge base holds none of them."""
    known = sorted({t for t in terms if stats.frequency.get(t)}, key=lambda t: (stats.frequency[t], t))
    if not known:
        return None
    candidates, covered = [known[0]], stats.frequency[known[0]]
    for term in known[1:]:
        covered += stats.frequency[term]
        if covered > budget:
            break
        candidates.append(term)
    weights = {t: idf(stats.chunks, stats.frequency[t]) for t in known}
    return LexicalPlan(tenant_id, tuple(candidates), weights, stats.mean_length)


def any_of(terms: Sequence[str]) -> str:
    """A tsquery (text form) matching chunks holding any of these lexemes, each quoted as a literal."""
    return " | ".join("'" + term.replace("\\", "\\\\").replace("'", "''") + "'" for term in terms)


class TermIndex:
    """Each tenant's term statistics, replaced whole when its KB revision moves (readers see one or the other)."""

    def __init__(self) -> None:
        self._held: dict[str, TermStatistics] = {}
        self._lock = threading.Lock()

    def revision(self, tenant_id: str) -> int | None:
        held = self._held.get(tenant_id)
        return held.revision if held else None

    def get(self, tenant_id: str) -> TermStatistics | None:
        return self._held.get(tenant_id)

    def put(self, tenant_id: str, stats: TermStatistics) -> None:
        with self._lock:
            self._held = {**self._held, tenant_id: stats}
