"""The stall watch: a partition whose fetch position stands still while records wait is reported, once per period."""

from __future__ import annotations

from aios.decide.stalls import StallWatch


def test_a_position_standing_still_behind_the_high_watermark_is_a_stall() -> None:
    watch = StallWatch(stall_after_s=60)
    assert not watch.stalled("p0", 10, 50, now=0)
    assert not watch.stalled("p0", 10, 50, now=59)
    assert watch.stalled("p0", 10, 50, now=60)
    # reported once, then again only after another period of standing still
    assert not watch.stalled("p0", 10, 50, now=61)
    assert watch.stalled("p0", 10, 50, now=120)


def test_progress_or_an_empty_partition_is_no_stall() -> None:
    watch = StallWatch(stall_after_s=60)
    assert not watch.stalled("p0", 10, 50, now=0)
    assert not watch.stalled("p0", 11, 50, now=59)
    assert not watch.stalled("p0", 11, 50, now=100)  # moved at 59: still within the period
    assert not watch.stalled("p1", 50, 50, now=0)
    assert not watch.stalled("p1", 50, 50, now=1000)  # caught up: nothing waits
    assert not watch.stalled("p2", None, 50, now=1000)
    assert not watch.stalled("p2", 3, None, now=2000)
