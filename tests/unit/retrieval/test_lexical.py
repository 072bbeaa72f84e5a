"""BM25 planning: which lexemes bring the candidates, what each weighs, and how they are quoted for PostgreSQL."""

from __future__ import annotations

import math

import pytest

from aios.retrieval.lexical import TermIndex, TermStatistics, any_of, idf, plan

STATS = TermStatistics(revision=7, chunks=1000, mean_length=40.0, frequency={"card": 600, "stolen": 30, "lock": 200})


def test_rarer_terms_weigh_more_and_weights_stay_positive() -> None:
    assert idf(1000, 30) > idf(1000, 200) > idf(1000, 600) > 0
    assert idf(1000, 1000) > 0
    assert idf(1000, 30) == pytest.approx(math.log(1 + 970.5 / 30.5))


def test_candidates_come_from_the_rarest_terms_within_the_budget() -> None:
    # 30 + 200 fit a budget of 250; adding card (600) would not. Every known term still weighs in.
    planned = plan("t", ["card", "stolen", "lock", "unknown"], STATS, budget=250)
    assert planned is not None
    assert planned.candidate_terms == ("stolen", "lock")
    assert set(planned.weights) == {"card", "stolen", "lock"}
    assert planned.weights["stolen"] == pytest.approx(idf(1000, 30))
    assert planned.mean_length == 40.0
    # A budget that takes everything is an exact search over every matching chunk.
    exact = plan("t", ["card", "stolen", "lock"], STATS, budget=10_000)
    assert exact is not None and exact.candidate_terms == ("stolen", "lock", "card")


def test_the_rarest_term_is_a_candidate_even_over_the_budget_and_unknown_words_plan_nothing() -> None:
    planned = plan("t", ["card", "lock"], STATS, budget=10)
    assert planned is not None and planned.candidate_terms == ("lock",)
    assert plan("t", ["weather", "paris"], STATS, budget=1000) is None
    assert plan("t", [], STATS, budget=1000) is None


def test_lexemes_are_quoted_as_tsquery_literals() -> None:
    assert any_of(["card", "stolen"]) == "'card' | 'stolen'"
    assert any_of(["it's", "a\\b"]) == "'it''s' | 'a\\\\b'"


def test_term_index_holds_statistics_by_revision() -> None:
    index = TermIndex()
    assert index.revision("t") is None and index.get("t") is None
    index.put("t", STATS)
    assert index.revision("t") == 7 and index.get("t") is STATS
