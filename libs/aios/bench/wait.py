"""`Prefer: wait` under load: how long a caller waits from its request to the outcome in the answer.

On the pipeline `aios up` runs (the outcome notifier included), with the demo tenant: first a
burst gives the sustained rate (as the whole-pipeline section measures it), then callers send
open loop at 25 % and 50 % of it with the SDK's `submit(..., wait=N)`, each timing its own request
from sending to the 200 with the outcome. An answer without an outcome (202: the wait ran out) is
counted apart, never as a latency.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass

from rich.console import Console

from aios.bench.load import paced
from aios.bench.pipeline import burst_drain_rate
from aios.client import AsyncAiosClient
from aios.demo.events import DemoEvent, demo_events
from aios.demo.setup import DATA, RunningPipeline
from aios.demo.tracking import PipelineWatch
from aios.kafka.serde import Codecs
from aios.stats import percentile

FRACTIONS = (0.25, 0.5)
WAIT_S = 30
"""What each caller asks for: long enough that only a stalled pipeline answers 202."""


@dataclass(frozen=True)
class WaitLevel:
    fraction: float
    offered_rate: float
    events: int
    answered: int
    """Answers carrying the outcome (200)."""
    p50_s: float
    p99_s: float
    kinds: dict[str, int]


@dataclass(frozen=True)
class WaitBenchResult:
    burst_events: int
    drain_rate: float
    """How fast the burst drained: an upper bound of the sustained rate."""
    levels: list[WaitLevel]


def run_wait_bench(console: Console, pipeline: RunningPipeline, burst: int, level_s: float) -> WaitBenchResult:
    connection = pipeline.connection
    url, key = pipeline.urls["ingest_url"], pipeline.tenant.api_key
    clinc, domains = DATA / "clinc150" / "data_full.json", DATA / "clinc150" / "domains.json"
    watch = PipelineWatch(connection.kafka_bootstrap, Codecs(connection.schema_registry_url))
    try:
        done, rate = burst_drain_rate(console, url, key, demo_events(clinc, domains, burst, seed=7), watch)
    finally:
        watch.close()
    levels = []
    for fraction in FRACTIONS:
        offered = fraction * rate
        events = demo_events(clinc, domains, max(int(offered * level_s), 1), seed=9)
        answers = asyncio.run(_paced_waiting(url, key, events, offered))
        latencies = [seconds for seconds, kind in answers if kind is not None]
        level = WaitLevel(
            fraction,
            offered,
            len(answers),
            len(latencies),
            percentile(latencies, 50) if latencies else float("nan"),
            percentile(latencies, 99) if latencies else float("nan"),
            dict(Counter(kind or "no outcome (202)" for _, kind in answers)),
        )
        levels.append(level)
        console.print(f"{fraction:.0%}: p50 {level.p50_s:.2f} s, p99 {level.p99_s:.2f} s, {level.kinds}")
    return WaitBenchResult(done, rate, levels)


async def _paced_waiting(
    url: str, api_key: str, events: list[DemoEvent], rate: float
) -> list[tuple[float, str | None]]:
    """Send `events` open loop at `rate` per second, each waiting for its outcome; (seconds, outcome kind) each."""
    answers: list[tuple[float, str | None]] = []
    async with AsyncAiosClient(url, api_key, timeout_s=10.0) as client:

        async def one(event: DemoEvent) -> None:
            started = time.perf_counter()
            answer = await client.submit(event.type, event.text, event.attributes, wait=WAIT_S)
            kind = None if answer.outcome is None else str(answer.outcome["kind"])
            answers.append((time.perf_counter() - started, kind))

        await paced(events, rate, one)
    return answers


def markdown(result: WaitBenchResult, stamp: str) -> str:
    rows = [
        f"| {level.fraction:.0%} | {level.offered_rate:.1f} | {level.events} | {level.answered} | {level.p50_s:.2f} |"
        f" {level.p99_s:.2f} | {', '.join(f'{kind} {count}' for kind, count in sorted(level.kinds.items()))} |"
        for level in result.levels
    ]
    return "\n".join(
        [
            "## Waiting for the outcome: `Prefer: wait` from request to answer",
            "",
            stamp,
            "",
            "Every service `aios up` runs, the outcome notifier included, on the demo tenant and policy. A burst "
            f"of {result.burst_events} events drains at **{result.drain_rate:.1f} events/s**, an upper bound of the "
            "sustained rate the whole-pipeline section searches for (so these levels are, if anything, heavier than "
            "25 % and 50 % of it); callers send open loop at 25 % and 50 % of the drain rate through the SDK with "
            f"`submit(..., wait={WAIT_S})`, each timing "
            "its request from sending to the 200 that carries the outcome (decided or rejected with the actions' "
            "results, review_requested, dead_lettered). Answers without an outcome (202) are counted apart.",
            "",
            "| load | offered events/s | requests | with outcome | p50 s | p99 s | outcomes |",
            "|---:|---:|---:|---:|---:|---:|---|",
            *rows,
        ]
    )
