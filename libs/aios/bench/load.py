"""Load generation shared by the benchmarks: closed loops at fixed concurrency, open loops at a fixed rate.

Latencies are measured per call with `perf_counter`; percentiles come from the raw samples.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from aios.stats import percentile

T = TypeVar("T")
Call = Callable[[], Awaitable[bool]]
"""One request; True when it succeeded (accepted)."""


@dataclass(frozen=True)
class LoadResult:
    label: str
    concurrency: int
    offered_rate: float | None
    succeeded: int
    failed: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def rate(self) -> float:
        return self.succeeded / self.seconds


async def closed_loop(label: str, call: Call, concurrency: int, duration_s: float) -> LoadResult:
    """`concurrency` callers, each sending its next request when the previous one is answered."""
    latencies: list[float] = []
    failed = 0
    deadline = time.perf_counter() + duration_s

    async def caller() -> None:
        nonlocal failed
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            ok = await call()
            if ok:
                latencies.append(time.perf_counter() - started)
            else:
                failed += 1

    started = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return _result(label, concurrency, None, latencies, failed, elapsed)


async def open_loop(label: str, call: Call, rate: float, duration_s: float, max_in_flight: int = 512) -> LoadResult:
    """Requests started at a fixed rate whatever the answers' speed (latency under a given load)."""
    latencies: list[float] = []
    failed = 0
    in_flight = asyncio.Semaphore(max_in_flight)

    async def one() -> None:
        nonlocal failed
        async with in_flight:
            started = time.perf_counter()
            if await call():
                latencies.append(time.perf_counter() - started)
            else:
                failed += 1

    started = time.perf_counter()
    await paced(range(int(rate * duration_s)), rate, lambda _: one())
    elapsed = time.perf_counter() - started
    return _result(label, max_in_flight, rate, latencies, failed, elapsed)


async def paced(
    items: Iterable[T],
    rate: float,
    start: Callable[[T], Coroutine[Any, Any, None]],
    after_each: Callable[[int, float], None] | None = None,
) -> None:
    """`start(item)` for each item at its own time (`rate` per second, whatever the answers' speed), then wait
    for all; `after_each(started_so_far, elapsed_s)` runs once each is started (a watch's poll, a sample)."""
    began = time.perf_counter()
    tasks = []
    for number, item in enumerate(items):
        delay = began + number / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(start(item)))
        if after_each is not None:
            after_each(number + 1, time.perf_counter() - began)
    await asyncio.gather(*tasks)


def _result(
    label: str, concurrency: int, offered: float | None, latencies: list[float], failed: int, elapsed: float
) -> LoadResult:
    return LoadResult(
        label=label,
        concurrency=concurrency,
        offered_rate=offered,
        succeeded=len(latencies),
        failed=failed,
        seconds=elapsed,
        p50_ms=percentile(latencies, 50) * 1000,
        p99_ms=percentile(latencies, 99) * 1000,
    )
