"""Offsets skipped on a partition are named once per jump; replays and rebalances are not gaps."""

from __future__ import annotations

import asyncio
from typing import Any

import faust
from faust.types import TP

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


def test_a_partition_resumed_at_an_offset_expects_that_one_first() -> None:
    """The record at the resume point itself is the first that can be skipped."""
    gaps = OffsetGaps()
    assert not gaps.expects("p0")
    gaps.expect("p0", 40)
    assert gaps.expects("p0")
    assert gaps.observe("p0", 41) == 40
    gaps.forget()
    gaps.expect("p0", 40)
    assert gaps.observe("p0", 40) is None


def test_faust_still_empties_the_stream_queues_when_its_flow_resumes() -> None:
    """The step that drops records at the end of a recovery (faust-streaming #596, `aios.decide.gaps`).

    When this fails, Faust changed: check whether the gap guard is still needed.
    """

    async def queued_after_resume() -> int:
        app = faust.App("gaps-probe", broker="kafka://127.0.0.1:1", autodiscover=False, web_enabled=False)
        stream_queue = app.topic("gaps-probe-input").clone().__aiter__().queue
        stream_queue.put_nowait("fetched during the seek")
        app.flow_control.resume()
        return stream_queue.qsize()

    assert asyncio.run(queued_after_resume()) == 0


def test_faust_still_commits_over_the_record_at_its_committed_offset() -> None:
    """A committed offset is the next record to read, yet Faust's commit passes over a hole of just that record.

    When this fails, Faust changed: check whether the guard's expectation at the resume point is still needed.
    """
    app = faust.App("gaps-probe", broker="kafka://127.0.0.1:1", autodiscover=False, web_enabled=False)
    consumer: Any = app.consumer
    resumed = TP("gaps-probe-input", 0)
    consumer._committed_offset[resumed] = 10
    consumer._acked[resumed] = [11, 12]  # 10 never reached the agent
    assert consumer._new_offset(resumed) == 13
