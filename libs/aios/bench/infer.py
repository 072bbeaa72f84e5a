"""The model endpoint against the raw model: callers of `POST /v2/models/{name}/infer` beside `predict` in batches.

Each caller sends one text per request and its next request when the answer came (closed loop), so
N callers let the service batch at most N texts; the raw model runs `predict` on batches of N texts
in this process (tokenizing included, as the service does). At each level the two run one right
after the other, so a noisy shared machine weighs on both alike and the ratio says what HTTP, the
protocol and batching cost.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from aios.bench.load import LoadResult, closed_loop
from aios.bench.model_speed import Throughput
from aios.bench.report import save_figure
from aios.infer.settings import InferSettings
from aios.inference.classifier import TextClassifier

LEVELS = (1, 16, 64)
GOAL_RATIO_AT_64 = 0.8
GOAL_P99_MS_AT_16 = 50.0


@dataclass(frozen=True)
class InferBenchResult:
    service: list[LoadResult]
    raw: list[Throughput]

    def ratio(self, callers: int) -> float:
        """The endpoint's rate at `callers` over the raw model's at the same batch size."""
        service = next(r for r in self.service if r.concurrency == callers)
        raw = next(r for r in self.raw if r.label == raw_label(callers))
        return service.rate / raw.rate if raw.rate else 0.0


def raw_label(batch_size: int) -> str:
    return f"raw predict, batch {batch_size}"


async def run_infer_bench(
    url: str,
    model_name: str,
    api_key: str,
    model: TextClassifier,
    texts: Sequence[str],
    *,
    levels: Sequence[int] = LEVELS,
    duration_s: float = 8.0,
) -> InferBenchResult:
    """Per level: the endpoint (after a short warm-up at that level), then the raw model at that batch size."""
    bodies = [
        json.dumps({"inputs": [{"name": "text", "shape": [1], "datatype": "BYTES", "data": [text]}]}).encode()
        for text in texts
    ]
    turn = itertools.count()
    service, raw = [], []
    async with httpx.AsyncClient(
        base_url=url,
        headers={"Authorization": f"Bearer {api_key}", "content-type": "application/json"},
        limits=httpx.Limits(max_connections=max(levels), max_keepalive_connections=max(levels)),
        timeout=60,
    ) as http:

        async def call() -> bool:
            answer = await http.post(f"/v2/models/{model_name}/infer", content=bodies[next(turn) % len(bodies)])
            return answer.status_code == 200

        for level in levels:
            await closed_loop("warm-up", call, level, min(2.0, duration_s / 4))
            service.append(await closed_loop(f"infer, {level} callers", call, level, duration_s))
            # On a worker thread, as the service runs the model: under load, torch on the main thread
            # was several times slower here than on any other (measured 1.2 vs 9.5 texts/s at batch 1).
            raw.append(await asyncio.to_thread(raw_model_at, model, texts, level, duration_s))
    return InferBenchResult(service, raw)


def raw_model_at(model: TextClassifier, texts: Sequence[str], size: int, duration_s: float) -> Throughput:
    """`predict` on batches of `size` texts, as many as fit in `duration_s` (one warm-up batch first)."""
    batches = itertools.cycle([texts[i : i + size] for i in range(0, len(texts) - size + 1, size)])
    model.predict(next(batches))
    timings: list[float] = []
    records = 0
    started = time.perf_counter()
    while time.perf_counter() - started < duration_s:
        batch = next(batches)
        batch_started = time.perf_counter()
        model.predict(batch)
        timings.append((time.perf_counter() - batch_started) * 1000)
        records += len(batch)
    return Throughput(raw_label(size), records, time.perf_counter() - started, timings)


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: on a shared machine, what else ran beside the benchmark."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.1f} / {five:.1f} / {fifteen:.1f} on {os.cpu_count()} cores"


def markdown(result: InferBenchResult, stamp: str, image: str | None = None) -> str:
    rows = []
    for service in result.service:
        raw = next(r for r in result.raw if r.label == raw_label(service.concurrency))
        rows.append(
            f"| {service.concurrency} | {service.rate:,.0f} | {service.p50_ms:.1f} | {service.p99_ms:.1f} |"
            f" {service.failed} | {raw.rate:,.0f} | {raw.p50_ms:.1f} | {raw.p99_ms:.1f} |"
            f" {result.ratio(service.concurrency):.2f} |"
        )
    at_16 = next(r for r in result.service if r.concurrency == 16)
    batching = InferSettings()
    ratio_64 = result.ratio(64)
    lines = [
        "## Model as a service (`infer`)",
        "",
        stamp,
        "",
        "Callers of `POST /v2/models/{name}/infer` (one text per request, closed loop, JSON) against",
        f"`services.infer` with its default batching ({batching.max_batch_texts} texts or {batching.max_wait_ms:g} ms),"
        " beside the raw model's `predict`",
        "(tokenizing included; on a worker thread, as the service runs it) on batches as large as the callers",
        "are many, run right after each level on the same machine. The load generator shares the machine's",
        f"cores with the service; when the run ended: {load_average()}.",
        "",
        "| callers | infer req/s | p50 ms | p99 ms | failed | raw texts/s (batch = callers) | raw p50 batch ms |"
        " raw p99 batch ms | infer / raw |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        f"Goals: rate at 64 callers ≥ {GOAL_RATIO_AT_64} of the raw batched rate: {ratio_64:.2f}"
        f" ({'met' if ratio_64 >= GOAL_RATIO_AT_64 else 'not met'}); p99 at 16 callers < {GOAL_P99_MS_AT_16:.0f} ms:"
        f" {at_16.p99_ms:.1f} ms ({'met' if at_16.p99_ms < GOAL_P99_MS_AT_16 else 'not met'}).",
    ]
    if image:
        lines += ["", f"![infer vs raw model]({image})"]
    return "\n".join(lines)


def plot(result: InferBenchResult, path: Path) -> None:
    """Rates side by side per level, endpoint and raw model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    levels = [r.concurrency for r in result.service]
    raw = {r.label: r.rate for r in result.raw}
    fig, ax = plt.subplots(figsize=(7, 3.5))
    positions = range(len(levels))
    ax.bar([p - 0.2 for p in positions], [r.rate for r in result.service], 0.4, label="infer endpoint", color="#4c72b0")
    ax.bar([p + 0.2 for p in positions], [raw[raw_label(n)] for n in levels], 0.4, label="raw model", color="#bbbbbb")
    ax.set_xticks(list(positions), [f"{n} callers / batch {n}" for n in levels])
    ax.set_ylabel("texts per second")
    ax.set_title("Model endpoint vs raw model")
    ax.legend()
    save_figure(fig, path)
