"""The whole pipeline under load: sustained events per second end to end, and latency below that rate.

Everything `aios up` runs, on the demo tenant (knowledge base, policy, webhook receiver), fed
through the ingest API with the SDK and followed through the topics (`PipelineWatch`) until
each event is final. First a burst shows the sustained rate: how fast events become final while
a backlog is waiting, between 10 % and 90 % of them. Then the pipeline is loaded open loop at
25 %, 50 % and 75 % of that rate, and the latency from sending to final is read per level.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from aios.bench.report import save_figure
from aios.client import AsyncAiosClient
from aios.demo import send_events
from aios.demo.events import DemoEvent, demo_events
from aios.demo.setup import DATA, RunningPipeline, wait_final
from aios.demo.tracking import PipelineWatch
from aios.kafka.serde import Codecs
from aios.stats import percentile

FRACTIONS = (0.25, 0.5, 0.75)


@dataclass(frozen=True)
class LevelResult:
    fraction: float
    offered_rate: float
    events: int
    p50_s: float
    p99_s: float


@dataclass(frozen=True)
class PipelineBenchResult:
    burst_events: int
    sustained_rate: float
    levels: list[LevelResult]


def run_pipeline_bench(console: Console, pipeline: RunningPipeline, burst: int, level_s: float) -> PipelineBenchResult:
    connection = pipeline.connection
    url, key = pipeline.urls["ingest_url"], pipeline.tenant.api_key
    events = demo_events(DATA / "clinc150" / "data_full.json", DATA / "clinc150" / "domains.json", burst, seed=7)
    watch = PipelineWatch(connection.kafka_bootstrap, Codecs(connection.schema_registry_url))
    try:
        done, rate = sustained_rate(console, url, key, events, watch)
        levels = []
        for fraction in FRACTIONS:
            offered = fraction * rate
            paced = demo_events(
                DATA / "clinc150" / "data_full.json", DATA / "clinc150" / "domains.json", int(offered * level_s), seed=8
            )
            times = asyncio.run(_paced(url, key, paced, offered, watch))
            wait_final(console, watch, len(watch.tracks))
            finals = {event_id: watch.tracks[event_id].final_ms for event_id in times}
            latencies = [final / 1000 - times[event_id] for event_id, final in finals.items() if final]
            levels.append(
                LevelResult(fraction, offered, len(times), percentile(latencies, 50), percentile(latencies, 99))
            )
            console.print(f"{fraction:.0%}: p50 {levels[-1].p50_s:.2f} s, p99 {levels[-1].p99_s:.2f} s")
    finally:
        watch.close()
    return PipelineBenchResult(done, rate, levels)


def sustained_rate(
    console: Console, url: str, api_key: str, events: list[DemoEvent], watch: PipelineWatch
) -> tuple[int, float]:
    """Send `events` as a burst; how many became final, and how fast between the 10th and 90th percentile."""
    sent = asyncio.run(send_events(console, url, api_key, events, watch, concurrency=32))
    wait_final(console, watch, len(sent))
    done = sorted(track.final_ms / 1000 for track in watch.tracks.values() if track.final_ms)
    low, high = done[len(done) // 10], done[len(done) * 9 // 10]
    rate = (len(done) * 8 // 10) / max(high - low, 1e-3)
    console.print(f"sustained: {rate:.1f} events/s end to end ({len(done)} events in a burst)")
    return len(done), rate


async def _paced(
    url: str, api_key: str, events: list[DemoEvent], rate: float, watch: PipelineWatch
) -> dict[str, float]:
    """Send `events` open loop at `rate` per second (each at its own time, whatever the answers' speed)."""
    sent: dict[str, float] = {}
    async with AsyncAiosClient(url, api_key) as client:

        async def one(event: DemoEvent) -> None:
            at = time.time()
            event_id = await client.submit(event.type, event.text, event.attributes)
            sent[event_id] = at
            watch.track([event_id])

        started = time.perf_counter()
        tasks = []
        for number, event in enumerate(events):
            delay = started + number / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(event)))
            watch.poll(0)
        await asyncio.gather(*tasks)
    return sent


def plot(result: PipelineBenchResult, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    offered = [level.offered_rate for level in result.levels]
    ax.plot(offered, [level.p50_s for level in result.levels], "o-", label="p50")
    ax.plot(offered, [level.p99_s for level in result.levels], "o-", label="p99")
    ax.axvline(result.sustained_rate, color="#c44e52", linestyle="--", label="sustained rate")
    ax.set(xlabel="offered events / s", ylabel="seconds, sent → final", title="End-to-end latency under load")
    ax.legend()
    save_figure(fig, path, dpi=110)


def markdown(result: PipelineBenchResult, stamp: str, image: str) -> str:
    rows = [
        f"| {level.fraction:.0%} | {level.offered_rate:.1f} | {level.events} | {level.p50_s:.2f} | {level.p99_s:.2f} |"
        for level in result.levels
    ]
    return "\n".join(
        [
            "## The whole pipeline: sustained rate and end-to-end latency",
            "",
            stamp,
            "",
            "Every service `aios up` runs (ingest, classify on the torch backend, retrieve-generate, decide, review, "
            "act, audit) on the demo tenant and policy, all on this machine's 2 cores with Kafka, PostgreSQL, Redis "
            "and Prometheus. Events are CLINC150 support tickets sent through the SDK; an event is final when its "
            "decision's actions are executed, or it is rejected, waiting for review, or dead-lettered, as read "
            "from the topics.",
            "",
            f"**Sustained rate: {result.sustained_rate:.1f} events/s end to end**, measured on a burst of "
            f"{result.burst_events} events (the rate at which they became final between the 10th and 90th "
            "percentile). Open-loop load below it, latency from sending to final:",
            "",
            "| load | offered events/s | events | p50 s | p99 s |",
            "|---:|---:|---:|---:|---:|",
            *rows,
            "",
            f"![pipeline latency]({image})",
        ]
    )
