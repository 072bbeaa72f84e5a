"""Ingest edge vs a raw confluent-kafka producer sending the same records, side by side.

Both sides are measured the same way: C concurrent callers, each waiting for its event to be
acknowledged (by the edge's 202, or by the broker's ack) before sending the next. The edge's
callers are `wrk` connections (a C load generator, so the 2 cores serve the edge rather than a
Python HTTP client); the raw producer's are asyncio tasks calling confluent-kafka directly. The
ratio of their rates at each C is the figure; then the edge is loaded by `hey` at a paced half
of its own peak to read p99 latency under a realistic load.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aios.bench.errors import BenchError
from aios.bench.events import received_value
from aios.bench.load import LoadResult, closed_loop
from aios.bench.report import save_figure
from aios.kafka import topics
from aios.kafka.async_producer import AsyncProducer
from aios.kafka.errors import DeliveryError
from aios.kafka.serde import Codecs
from aios.settings import ConnectionSettings
from aios.stats import percentile

TOPIC = topics.EVENTS_RECEIVED.name
BODY: dict[str, Any] = {
    "type": "support.ticket",
    "text": "I was charged twice for my subscription this month",
    "attributes": {"channel": "bench"},
}


@dataclass(frozen=True)
class IngestBenchResult:
    edge: list[LoadResult]
    raw: list[LoadResult]
    half_peak: LoadResult


def raw_value(tenant_id: str) -> dict[str, object]:
    return received_value(BODY["text"], tenant_id, BODY["type"], BODY["attributes"])


async def run_ingest_bench(
    ingest_url: str,
    api_key: str,
    tenant_id: str,
    connection: ConnectionSettings,
    topic: str,
    *,
    levels: tuple[int, ...],
    duration_s: float,
) -> IngestBenchResult:
    """`topic` carries `aios.events.received`'s schema; the edge writes to it too (AIOS_INGEST_TOPIC)."""
    codecs = Codecs(connection.schema_registry_url, carries={topic: TOPIC})
    producer = AsyncProducer(connection.kafka_bootstrap, client_id="bench-raw")
    request = EdgeRequest(f"{ingest_url}/v1/events", api_key, json.dumps(BODY))

    async def raw_call() -> bool:
        value = raw_value(tenant_id)
        try:
            await producer.send(topic, codecs.encode(topic, value), key=f"{tenant_id}:{value['event_id']}")
        except DeliveryError:
            return False
        return True

    edge: list[LoadResult] = []
    raw: list[LoadResult] = []
    await asyncio.to_thread(wrk_closed_loop, request, 4, 2)  # warm-up: connections, caches, the broker's batches
    await closed_loop("warm-up", raw_call, 4, 2)
    for concurrency in levels:
        edge.append(await asyncio.to_thread(wrk_closed_loop, request, concurrency, duration_s))
        raw.append(await closed_loop("raw producer", raw_call, concurrency, duration_s))
    await asyncio.to_thread(producer.close)
    peak = max(result.rate for result in edge)
    await asyncio.sleep(5)  # let the broker and the edge settle after the heaviest level
    half_peak = await asyncio.to_thread(hey_paced, request, peak / 2, duration_s * 1.5)
    return IngestBenchResult(edge, raw, half_peak)


@dataclass(frozen=True)
class EdgeRequest:
    url: str
    api_key: str
    body: str


_WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = {body}
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = {authorization}
done = function(summary, latency, requests)
  io.write(string.format('{{"requests": %d, "non2xx": %d, "errors": %d, "seconds": %f, "p50_us": %f, "p99_us": %f}}\\n',
    summary.requests, summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout, summary.duration / 1e6, latency:percentile(50), latency:percentile(99)))
end
"""


def wrk_closed_loop(request: EdgeRequest, concurrency: int, duration_s: float) -> LoadResult:
    """`concurrency` wrk connections (one thread), each sending its next event when the previous is answered."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(
            _WRK_SCRIPT.format(body=_lua_string(request.body), authorization=_lua_string(f"Bearer {request.api_key}"))
        )
        script.flush()
        command = ["wrk", "-t1", f"-c{concurrency}", f"-d{max(1, round(duration_s))}s", "-s", script.name]
        out = _run_tool([*command, request.url])
    found = json.loads(out.strip().splitlines()[-1])
    failed = found["non2xx"] + found["errors"]
    return LoadResult(
        label="edge",
        concurrency=concurrency,
        offered_rate=None,
        succeeded=found["requests"] - found["non2xx"],
        failed=failed,
        seconds=found["seconds"],
        p50_ms=found["p50_us"] / 1000,
        p99_ms=found["p99_us"] / 1000,
    )


def hey_paced(request: EdgeRequest, rate: float, duration_s: float, callers: int = 50) -> LoadResult:
    """`rate` events/s spread over `callers` paced hey workers; latencies from hey's per-request CSV."""
    command = [
        "hey",
        f"-z={max(1, round(duration_s))}s",
        f"-c={callers}",
        f"-q={max(1.0, rate / callers):.2f}",
        "-m=POST",
        "-T=application/json",
        f"-H=Authorization: Bearer {request.api_key}",
        f"-d={request.body}",
        "-o=csv",
        request.url,
    ]
    rows = list(csv.DictReader(io.StringIO(_run_tool(command))))
    ok = [float(row["response-time"]) for row in rows if row["status-code"] == "202"]
    seconds = max((float(row["offset"]) for row in rows), default=duration_s) or duration_s
    return LoadResult(
        label="edge at half peak",
        concurrency=callers,
        offered_rate=rate,
        succeeded=len(ok),
        failed=len(rows) - len(ok),
        seconds=seconds,
        p50_ms=percentile(ok, 50) * 1000,
        p99_ms=percentile(ok, 99) * 1000,
    )


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _run_tool(command: list[str]) -> str:
    if shutil.which(command[0]) is None:
        raise BenchError(f"{command[0]} is not installed (apt-get install {command[0]}; make setup does it)")
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BenchError(f"{' '.join(command[:3])} failed: {result.stderr.strip()[-500:]}")
    return result.stdout


def plot(result: IngestBenchResult, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    levels = [r.concurrency for r in result.edge]
    fig, (rates, latency) = plt.subplots(1, 2, figsize=(10, 4))
    rates.plot(levels, [r.rate for r in result.raw], "o-", label="raw producer (acks=all)")
    rates.plot(levels, [r.rate for r in result.edge], "o-", label="ingest edge (HTTP 202)")
    rates.set(xscale="log", xlabel="concurrent callers", ylabel="accepted events / s", title="Throughput")
    rates.legend()
    latency.plot(levels, [r.p99_ms for r in result.raw], "o--", label="raw p99")
    latency.plot(levels, [r.p99_ms for r in result.edge], "o-", label="edge p99")
    latency.plot(levels, [r.p50_ms for r in result.edge], "o:", label="edge p50")
    latency.set(xscale="log", xlabel="concurrent callers", ylabel="ms", title="Accept latency")
    latency.legend()
    save_figure(fig, path, dpi=110)


def markdown(result: IngestBenchResult, stamp: str, image: str) -> str:
    rows = [
        "| callers | edge events/s | edge p50 ms | edge p99 ms | raw events/s | raw p99 ms | edge / raw |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for edge, raw in zip(result.edge, result.raw, strict=True):
        rows.append(
            f"| {edge.concurrency} | {edge.rate:,.0f} | {edge.p50_ms:.1f} | {edge.p99_ms:.1f} | {raw.rate:,.0f} "
            f"| {raw.p99_ms:.1f} | {edge.rate / raw.rate:.0%} |"
        )
    best = max(result.edge, key=lambda r: r.rate)
    best_raw = next(r for r in result.raw if r.concurrency == best.concurrency)
    half = result.half_peak
    verdict_rate = "meets" if best.rate >= 0.3 * best_raw.rate else "misses"
    verdict_p99 = "meets" if half.p99_ms < 50 else "misses"
    return f"""## Ingest edge vs raw producer

{stamp}

Closed loop: C callers each wait for their event's acknowledgement (HTTP 202 from the edge, which
itself waits for `acks=all`; or the broker's ack to a raw confluent-kafka producer with the same
settings) before sending the next. The edge's callers are `wrk` connections, the raw producer's
asyncio tasks in one Python process. Load generator, edge (`AIOS_INGEST_WORKERS` uvicorn
processes), Redis, PostgreSQL and a one-node Kafka share the machine's 2 cores.

{chr(10).join(rows)}

At its peak ({best.concurrency} callers) the edge reaches **{best.rate / best_raw.rate:.0%}** of the raw
producer's rate at the same concurrency ({verdict_rate} the 30% goal). At half the edge's peak
({half.offered_rate:,.0f} events/s offered by {half.concurrency} paced `hey` callers, {half.rate:,.0f} accepted,
{half.failed} refused):
p50 {half.p50_ms:.1f} ms, **p99 {half.p99_ms:.1f} ms** ({verdict_p99} the 50 ms goal).

![ingest throughput and latency]({image})
"""
