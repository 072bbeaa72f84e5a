"""Offsets skipped on a partition are named once per jump; replays and rebalances are not gaps."""

from __future__ import annotations

from aios.decide.gaps import OffsetGaps


def test_a_jump_past_the_expected_offset_names_the_first_skipped_one() -> None:
    gaps = OffsetGaps()
    assert [gaps.observe("p0", offset) for offset in (10, 11, 12)] == [None, None, None]
    assert gaps.observe("p0", 17) == 13
    assert gaps.observe("p0", 18) is None  # named once: what follows the jump is expected from there
    # delivered again from 13 (a seek back): the replayed offsets and what follows are no gap
    assert [gaps.observe("p0", offset) for offset in (13, 14, 15, 16, 17, 18)] == [None] * 6
    assert gaps.observe("p1", 5) is None  # each partition on its own
    assert gaps.observe("p1", 7) == 6


def test_the_same_gap_after_a_rebalance_is_named_again() -> None:
    """The partition came back to this worker from its last commit, and the same records were skipped."""
    gaps = OffsetGaps()
    gaps.observe("p0", 1)
    assert gaps.observe("p0", 5) == 2
    gaps.forget()
    gaps.observe("p0", 1)
    assert gaps.observe("p0", 5) == 2


def test_a_rebalance_forgets_what_was_expected() -> None:
    gaps = OffsetGaps()
    gaps.observe("p0", 10)
    gaps.forget()
    assert gaps.observe("p0", 500) is None  # another worker may have handled 11..499
    assert gaps.observe("p0", 502) == 501
