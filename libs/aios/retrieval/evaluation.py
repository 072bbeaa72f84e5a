"""Retrieval quality on labelled queries: Recall@k and MRR@10 at document level.

A ranked list of chunks becomes a ranking of documents by each document's first chunk.
Recall@k is the share of a query's relevant documents found in the top k, averaged over queries;
MRR@10 is the mean of 1 / rank of the first relevant document (0 when none is in the top 10).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aios.retrieval.errors import EvaluationDataError
from aios.retrieval.types import Passage

CUTOFFS = (1, 5, 10)


@dataclass(frozen=True)
class LabelledQuery:
    query: str
    relevant: frozenset[str]


@dataclass(frozen=True)
class Scores:
    queries: int
    recall: dict[int, float]
    mrr_at_10: float

    def as_dict(self) -> dict[str, float | int]:
        return {"queries": self.queries, **{f"recall@{k}": v for k, v in self.recall.items()}, "mrr@10": self.mrr_at_10}


def load_labelled(path: Path) -> list[LabelledQuery]:
    """Lines `{"query": str, "relevant": [document ids]}`; a malformed line is an error naming it."""
    queries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            query, relevant = item["query"], item["relevant"]
            if not isinstance(query, str) or not query.strip():
                raise ValueError("query must be a non-empty string")
            if not isinstance(relevant, list) or not relevant or not all(isinstance(r, str) for r in relevant):
                raise ValueError("relevant must be a non-empty list of document ids")
        except (ValueError, KeyError, TypeError) as exc:
            raise EvaluationDataError(f"{path}:{number}: {exc}") from exc
        queries.append(LabelledQuery(query, frozenset(relevant)))
    if not queries:
        raise EvaluationDataError(f"{path}: no queries")
    return queries


def document_ranking(passages: Sequence[Passage]) -> list[str]:
    """Documents in the order of their best chunk."""
    return list(dict.fromkeys(passage.key.document_id for passage in passages))


def score(rankings: Sequence[Sequence[str]], queries: Sequence[LabelledQuery]) -> Scores:
    recall = {k: 0.0 for k in CUTOFFS}
    mrr = 0.0
    for ranking, query in zip(rankings, queries, strict=True):
        for k in CUTOFFS:
            recall[k] += len(query.relevant.intersection(ranking[:k])) / len(query.relevant)
        rank = next((i for i, document in enumerate(ranking[:10], start=1) if document in query.relevant), None)
        mrr += 1 / rank if rank else 0.0
    count = len(queries)
    return Scores(count, {k: value / count for k, value in recall.items()}, mrr / count)
