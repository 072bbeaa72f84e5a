"""The open-loop pacer every benchmark shares: each item at its own slot, whatever the answers' speed."""

from __future__ import annotations

import asyncio
import time

from aios.bench.load import paced


def test_items_start_at_their_slots_without_waiting_for_slow_answers_and_all_finish() -> None:
    started: list[tuple[int, float]] = []
    finished: list[int] = []
    ticks: list[int] = []

    async def slow(item: int) -> None:
        started.append((item, time.perf_counter()))
        await asyncio.sleep(0.5)
        finished.append(item)

    began = time.perf_counter()
    asyncio.run(paced(range(5), 50.0, slow, lambda count, _elapsed: ticks.append(count)))
    assert [item for item, _ in started] == [0, 1, 2, 3, 4]
    assert sorted(finished) == [0, 1, 2, 3, 4]
    assert ticks == [1, 2, 3, 4, 5]
    # Five starts 20 ms apart, not one after another's 0.5 s answer.
    assert started[-1][1] - began < 0.5
