"""Offsets skipped on a partition are noticed once; replays and rebalances are not gaps."""

from __future__ import annotations

from aios.decide.gaps import OffsetGaps


def test_a_jump_past_the_expected_offset_names_the_first_skipped_one() -> None:
    gaps = OffsetGaps()
    assert [gaps.observe("p0", offset) for offset in (10, 11, 12)] == [None, None, None]
    assert gaps.observe("p0", 17) == 13
    # read again from 13 after the seek: the replayed offsets and what follows are no gap
    assert [gaps.observe("p0", offset) for offset in (13, 14, 15, 16, 17, 18)] == [None] * 6
    assert gaps.observe("p1", 5) is None  # each partition on its own
    assert gaps.observe("p1", 7) == 6


def test_a_gap_that_comes_back_is_not_chased_again() -> None:
    """Records that are gone (past retention) cannot be read again: one seek back, then move on."""
    gaps = OffsetGaps()
    gaps.observe("p0", 1)
    assert gaps.observe("p0", 5) == 2
    gaps.observe("p0", 1)  # the consumer came back to where it could
    assert gaps.observe("p0", 5) is None


def test_a_rebalance_forgets_what_was_expected() -> None:
    gaps = OffsetGaps()
    gaps.observe("p0", 10)
    gaps.forget()
    assert gaps.observe("p0", 500) is None  # another worker may have handled 11..499
    assert gaps.observe("p0", 502) == 501
