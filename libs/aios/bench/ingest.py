"""Ingest edge vs a raw confluent-kafka producer sending the same records, side by side.

Both sides are measured the same way: C concurrent callers, each waiting for its event to be
acknowledged (by the edge's 202, or by the broker's ack) before sending the next. The ratio of
their rates at each C is the figure; then the edge is loaded open-loop at half its own peak to
read p99 latency under a realistic load.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from aios.bench.events import received_value
from aios.bench.load import LoadResult, closed_loop, open_loop
from aios.bench.report import save_figure
from aios.kafka.async_producer import AsyncProducer
from aios.kafka.errors import DeliveryError
from aios.schemas.serde import Codecs
from aios.settings import ConnectionSettings

TOPIC = "aios.events.received"
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
    levels: tuple[int, ...],
    duration_s: float,
) -> IngestBenchResult:
    codecs = Codecs(connection.schema_registry_url)
    producer = AsyncProducer(connection.kafka_bootstrap, client_id="bench-raw")
    body = json.dumps(BODY).encode()
    headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}

    async def raw_call() -> bool:
        value = raw_value(tenant_id)
        try:
            await producer.send(TOPIC, codecs.encode(TOPIC, value), key=f"{tenant_id}:{value['event_id']}")
        except DeliveryError:
            return False
        return True

    edge: list[LoadResult] = []
    raw: list[LoadResult] = []
    connector = aiohttp.TCPConnector(limit=max(levels) * 2)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def edge_call() -> bool:
            async with session.post(f"{ingest_url}/v1/events", data=body) as response:
                await response.read()
                return response.status == 202

        await closed_loop("warm-up", edge_call, 4, 2)
        await closed_loop("warm-up", raw_call, 4, 2)
        for concurrency in levels:
            edge.append(await closed_loop("edge", edge_call, concurrency, duration_s))
            raw.append(await closed_loop("raw producer", raw_call, concurrency, duration_s))
        peak = max(result.rate for result in edge)
        await asyncio.sleep(5)  # let the broker and the edge settle after the heaviest level
        half_peak = await open_loop("edge at half peak", edge_call, peak / 2, duration_s * 1.5)
    await asyncio.to_thread(producer.close)
    return IngestBenchResult(edge, raw, half_peak)


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
settings) before sending the next. Load generator, edge (one uvicorn process) and a one-node
Kafka share the machine's cores, so the edge is also competing with its own load.

{chr(10).join(rows)}

At its peak ({best.concurrency} callers) the edge reaches **{best.rate / best_raw.rate:.0%}** of the raw
producer's rate at the same concurrency ({verdict_rate} the 30% goal). Open loop at half the edge's
peak ({half.offered_rate:,.0f} events/s offered, {half.rate:,.0f} accepted, {half.failed} refused):
p50 {half.p50_ms:.1f} ms, **p99 {half.p99_ms:.1f} ms** ({verdict_p99} the 50 ms goal).

![ingest throughput and latency]({image})
"""
