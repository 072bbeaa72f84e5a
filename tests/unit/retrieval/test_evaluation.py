"""Recall@k and MRR@10 at document level, and reading labelled queries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aios.retrieval.errors import EvaluationDataError
from aios.retrieval.evaluation import LabelledQuery, document_ranking, load_labelled, score
from aios.retrieval.types import ChunkKey, Passage


def test_chunks_rank_documents_by_their_best_chunk() -> None:
    passages = [Passage(ChunkKey(d, n), "", "", 0.0) for d, n in [("b", 1), ("a", 0), ("b", 0), ("c", 2)]]
    assert document_ranking(passages) == ["b", "a", "c"]


def test_recall_and_mrr() -> None:
    queries = [
        LabelledQuery("q1", frozenset({"a"})),
        LabelledQuery("q2", frozenset({"b", "z"})),
        LabelledQuery("q3", frozenset({"x"})),
    ]
    rankings = [["a", "b"], ["c", "d", "e", "f", "g", "b"], ["a"] * 0]
    scores = score(rankings, queries)
    assert scores.queries == 3
    assert scores.recall[1] == pytest.approx(1 / 3)
    assert scores.recall[5] == pytest.approx(1 / 3)
    assert scores.recall[10] == pytest.approx((1 + 0.5) / 3)
    assert scores.mrr_at_10 == pytest.approx((1 + 1 / 6) / 3)


def test_labelled_file_lines_are_checked(tmp_path: Path) -> None:
    good = tmp_path / "qa.jsonl"
    good.write_text(json.dumps({"query": "lost card", "relevant": ["lost"], "intent": "x"}) + "\n\n")
    assert load_labelled(good) == [LabelledQuery("lost card", frozenset({"lost"}))]
    for line, reason in [
        ("not json", "Expecting value"),
        (json.dumps({"query": "q"}), "relevant"),
        (json.dumps({"query": "", "relevant": ["a"]}), "non-empty string"),
        (json.dumps({"query": "q", "relevant": []}), "non-empty list"),
    ]:
        bad = tmp_path / "bad.jsonl"
        bad.write_text(json.dumps({"query": "fine", "relevant": ["a"]}) + "\n" + line + "\n")
        with pytest.raises(EvaluationDataError, match=rf"bad.jsonl:2: .*{reason}"):
            load_labelled(bad)
