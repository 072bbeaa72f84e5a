"""Fusion: reciprocal rank fusion (agreement wins) and the convex combination of scores; deterministic ties, limits."""

from __future__ import annotations

import pytest

from aios.retrieval.fusion import convex_fusion, reciprocal_rank_fusion


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


def test_convex_fusion_weighs_cosine_against_bm25_normalised_by_the_best() -> None:
    lexical = [("a", 8.0), ("b", 4.0)]
    dense = {"c": 0.70, "a": 0.60, "b": 0.65}
    fused = convex_fusion(lexical, dense, lexical_weight=0.1)
    assert fused == [
        ("a", pytest.approx(0.9 * 0.60 + 0.1 * 1.0)),
        ("b", pytest.approx(0.9 * 0.65 + 0.1 * 0.5)),
        ("c", pytest.approx(0.9 * 0.70)),
    ]
    # Weight 0 is dense alone, weight 1 lexical alone (items it did not return score 0).
    assert [item for item, _ in convex_fusion(lexical, dense, 0.0)] == ["c", "b", "a"]
    assert [item for item, _ in convex_fusion(lexical, dense, 1.0)] == ["a", "b", "c"]


def test_convex_fusion_ties_go_to_the_higher_cosine_then_the_dense_order_and_limits_apply() -> None:
    # a: 0.5 * 0.2 + 0.5 * 1.0 = 0.6; b: 0.5 * 0.6 + 0.5 * 0.6 = 0.6 -> b has the higher cosine.
    assert [item for item, _ in convex_fusion([("a", 5.0), ("b", 3.0)], {"a": 0.2, "b": 0.6}, 0.5)] == ["b", "a"]
    assert [item for item, _ in convex_fusion([], {"x": 0.5, "y": 0.5}, 0.3)] == ["x", "y"]
    assert convex_fusion([("a", 1.0)], {"a": 0.5, "b": 0.4}, 0.5, limit=1) == [("a", pytest.approx(0.75))]
    assert convex_fusion([], {}, 0.1) == []
