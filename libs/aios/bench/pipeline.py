"""The whole pipeline under load: sustained events per second end to end, and latency below that rate.

Everything `aios up` runs, on the demo tenant (knowledge base, policy, webhook receiver), fed
through the ingest API with the SDK and followed through the topics (`PipelineWatch`) until
each event is final. A burst shows how fast a backlog drains; starting below that, a search over
open-loop rates (`aios.bench.sustained`) finds the highest rate held for minutes with a backlog
that does not grow: the sustained rate. Then the pipeline is loaded open loop at 25, 50, 75 and
90 % of it, and the latency from sending to final is read per level; CPU per event of every
process is read over the 50 % level (`aios.bench.cost`).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from aios.bench.cost import (
    CostTable,
    ModelCost,
    cost_table,
    cpu_seconds,
    pipeline_processes,
    production_model_cost,
)
from aios.bench.cost import markdown as cost_markdown
from aios.bench.load import paced
from aios.bench.report import save_figure
from aios.bench.sustained import GROWTH_TOLERANCE, BacklogSample, Probe, backlog_growth, search_sustained
from aios.client import AsyncAiosClient
from aios.demo import send_events
from aios.demo.events import DemoEvent, demo_events
from aios.demo.setup import DATA, RunningPipeline, wait_final
from aios.demo.tracking import PipelineWatch
from aios.kafka.serde import Codecs
from aios.stats import percentile

FRACTIONS = (0.25, 0.5, 0.75, 0.9)
COST_LEVEL = 0.5
"""The level whose steady stretch the cost table is read over: busy, with no backlog."""
BACKLOG_SAMPLE_S = 5.0


@dataclass(frozen=True)
class LevelResult:
    fraction: float
    offered_rate: float
    events: int
    p50_s: float
    p95_s: float
    p99_s: float


@dataclass(frozen=True)
class PipelineBenchResult:
    burst_events: int
    drain_rate: float
    """How fast a burst's backlog became final (10th to 90th percentile): an upper bound, not a sustained rate."""
    sustained_rate: float
    probes: list[Probe]
    hold_s: float
    levels: list[LevelResult]
    model: ModelCost
    cost: CostTable
    """CPU per event by part over the 50 % level."""
    watched_final: int
    recounted_final: int
    """Final events by a second count read afresh from the topics at the end (must equal watched_final)."""


@dataclass(frozen=True)
class PipelineBenchPlan:
    burst: int = 1500
    hold_s: float = 300.0
    """How long each candidate rate is offered in the search for the sustained rate."""
    probes: int = 4
    level_s: float = 60.0
    """How long each latency level (a share of the sustained rate) is offered."""


def run_pipeline_bench(console: Console, pipeline: RunningPipeline, plan: PipelineBenchPlan) -> PipelineBenchResult:
    url, key = pipeline.urls["ingest_url"], pipeline.tenant.api_key
    with console.status("the production model alone: rate and CPU per sentence"):
        model = production_model_cost()
    watch = PipelineWatch(pipeline.connection.kafka_bootstrap, Codecs(pipeline.connection.schema_registry_url))
    roots = pipeline_processes()
    try:
        done, drain = burst_drain_rate(console, url, key, _events(plan.burst, seed=7), watch)

        def probe(rate: float) -> Probe:
            times, samples = asyncio.run(_paced(url, key, _events(int(rate * plan.hold_s), seed=9), rate, watch))
            wait_final(console, watch, len(watch.tracks))
            result = Probe(rate, backlog_growth(samples), len(times))
            console.print(
                f"{rate:.1f} events/s: {'held' if result.held else 'not held'}, backlog trend "
                f"{result.growth_per_s:+.2f} events/s"
            )
            return result

        sustained, probes = search_sustained(probe, start=0.6 * drain, probes=plan.probes)
        levels = []
        for fraction in FRACTIONS:
            before, started = cpu_seconds(roots), time.monotonic()
            offered = fraction * sustained
            times, _ = asyncio.run(_paced(url, key, _events(int(offered * plan.level_s), seed=8), offered, watch))
            wait_final(console, watch, len(watch.tracks))
            if fraction == COST_LEVEL:
                cost = cost_table(before, cpu_seconds(roots), len(times), time.monotonic() - started)
            latencies = [
                final / 1000 - at for event_id, at in times.items() if (final := watch.tracks[event_id].final_ms)
            ]
            levels.append(LevelResult(fraction, offered, len(times), *(percentile(latencies, q) for q in (50, 95, 99))))
            console.print(f"{fraction:.0%}: p50 {levels[-1].p50_s:.2f} s, p99 {levels[-1].p99_s:.2f} s")
        recount = watch.recount()
    finally:
        watch.close()
    disagreeing = sorted(
        event_id for event_id, track in watch.tracks.items() if track.final != recount.tracks[event_id].final
    )
    if disagreeing:
        console.print(f"[red]watch and recount disagree on {len(disagreeing)} events, e.g. {disagreeing[:3]}[/]")
    return PipelineBenchResult(
        done, drain, sustained, probes, plan.hold_s, levels, model, cost, watch.finished, recount.finished
    )


def _events(count: int, seed: int) -> list[DemoEvent]:
    return demo_events(DATA / "clinc150" / "data_full.json", DATA / "clinc150" / "domains.json", count, seed=seed)


def burst_drain_rate(
    console: Console, url: str, api_key: str, events: list[DemoEvent], watch: PipelineWatch
) -> tuple[int, float]:
    """Send `events` as a burst; how many became final, and how fast between the 10th and 90th percentile.

    How fast a backlog drains: an upper bound of the rate paced traffic is served at.
    """
    sent = asyncio.run(send_events(console, url, api_key, events, watch, concurrency=32))
    wait_final(console, watch, len(sent))
    done = sorted(watch.tracks[event_id].final_ms or 0 for event_id in sent)
    low, high = done[len(done) // 10] / 1000, done[len(done) * 9 // 10] / 1000
    rate = (len(done) * 8 // 10) / max(high - low, 1e-3)
    console.print(f"a burst of {len(done)} drains at {rate:.1f} events/s")
    return len(done), rate


async def _paced(
    url: str, api_key: str, events: list[DemoEvent], rate: float, watch: PipelineWatch
) -> tuple[dict[str, float], list[BacklogSample]]:
    """Send `events` open loop at `rate` per second (each at its own time, whatever the answers' speed).

    Returns each event's send time and the backlog (tracked events not final) sampled along the way.
    """
    sent: dict[str, float] = {}
    samples: list[BacklogSample] = []
    async with AsyncAiosClient(url, api_key) as client:

        async def one(event: DemoEvent) -> None:
            at = time.time()
            event_id = await client.submit(event.type, event.text, event.attributes)
            sent[event_id] = at
            watch.track([event_id])

        finished_before = watch.finished

        def follow(started: int, elapsed: float) -> None:
            watch.poll(0)
            if not samples or elapsed - samples[-1].at_s >= BACKLOG_SAMPLE_S:
                samples.append(BacklogSample(elapsed, started - (watch.finished - finished_before)))

        await paced(events, rate, one, follow)
    return sent, samples


def plot(result: PipelineBenchResult, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    offered = [level.offered_rate for level in result.levels]
    for name in ("p50_s", "p95_s", "p99_s"):
        ax.plot(offered, [getattr(level, name) for level in result.levels], "o-", label=name[:3])
    ax.axvline(result.sustained_rate, color="#c44e52", linestyle="--", label="sustained rate")
    ax.set(xlabel="offered events / s", ylabel="seconds, sent → final", title="End-to-end latency under load")
    ax.legend()
    save_figure(fig, path, dpi=110)


def markdown(result: PipelineBenchResult, stamp: str, image: str, cost_image: str) -> str:
    rows = [
        f"| {level.fraction:.0%} | {level.offered_rate:.1f} | {level.events} | {level.p50_s:.2f} | {level.p95_s:.2f} "
        f"| {level.p99_s:.2f} |"
        for level in result.levels
    ]
    probes = [
        f"| {probe.offered:.1f} | {probe.events} | {probe.growth_per_s:+.2f} | {'held' if probe.held else 'not held'} |"
        for probe in result.probes
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
            f"**Sustained rate: {result.sustained_rate:.1f} events/s end to end** "
            f"({result.sustained_rate / result.model.rate:.2f} of the production model's own batched rate, "
            f"{result.model.rate:.0f} sentences/s in the same run): the highest open-loop rate held for "
            f"{result.hold_s:.0f} s with a backlog whose trend over the second half stayed under "
            f"{GROWTH_TOLERANCE:.0%} of the offered rate. A burst of {result.burst_events} events drained at "
            f"{result.drain_rate:.1f} events/s (10th to 90th percentile), an upper bound paced traffic does not get. "
            "The search:",
            "",
            "| offered events/s | events | backlog trend events/s | |",
            "|---:|---:|---:|---|",
            *probes,
            "",
            "Open-loop load below the sustained rate, latency from sending to final:",
            "",
            "| load | offered events/s | events | p50 s | p95 s | p99 s |",
            "|---:|---:|---:|---:|---:|---:|",
            *rows,
            "",
            f"Cross-check: {result.watched_final} of the events sent were final by the watch, "
            f"{result.recounted_final} by a second count read afresh from the topics at the end.",
            "",
            f"![pipeline latency]({image})",
            "",
            *cost_markdown(result.cost, result.model, cost_image),
        ]
    )
