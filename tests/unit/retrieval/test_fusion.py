"""Reciprocal rank fusion: agreement wins, ties are broken deterministically, limits apply."""

from __future__ import annotations

import pytest

from aios.retrieval.fusion import reciprocal_rank_fusion


def test_an_item_both_retrievers_rank_well_beats_one_only_one_ranks_first() -> None:
    lexical = ["x", "m", "c"]
    dense = ["y", "m", "x"]
    fused = reciprocal_rank_fusion([lexical, dense], k=60)
    assert [item for item, _ in fused] == ["x", "m", "y", "c"]
    assert fused[0][1] == pytest.approx(1 / 61 + 1 / 63)
    assert fused[1][1] == pytest.approx(2 / 62)
    # Found second by both beats found first by one only.
    assert reciprocal_rank_fusion([["x", "m"], ["y", "m"]])[0][0] == "m"


def test_ties_go_to_the_better_best_rank_then_to_the_first_ranking() -> None:
    # x is 1st in lexical only, y is 1st in dense only: same score, same best rank -> lexical's first.
    assert [item for item, _ in reciprocal_rank_fusion([["x"], ["y"]])] == ["x", "y"]
    assert [item for item, _ in reciprocal_rank_fusion([["y"], ["x"]])] == ["y", "x"]


def test_small_k_lets_the_top_ranks_dominate() -> None:
    lexical = ["a", "b", "c", "d"]
    dense = ["e", "f", "g", "h", "i", "b"]
    assert reciprocal_rank_fusion([lexical, dense], k=1)[0][0] == "a"
    assert reciprocal_rank_fusion([lexical, dense], k=60)[0][0] == "b"


def test_limit_and_empty_rankings() -> None:
    assert reciprocal_rank_fusion([["a", "b", "c"], []], limit=2) == [
        ("a", pytest.approx(1 / 61)),
        ("b", pytest.approx(1 / 62)),
    ]
    assert reciprocal_rank_fusion([[], []]) == []
