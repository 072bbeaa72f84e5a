"""Classify benchmark: the worker through Kafka vs the raw model, batched vs one at a time, torch vs Triton.

The raw model is the encoder's forward pass plus the out-of-scope decision on token tensors
already padded in memory: the ceiling the worker approaches. The worker runs the real consumer
loop (decode, route, tokenize, forward, encode, produce with acks=all, commit) on events
produced beforehand to a private topic; its rate counts from the end of its first batch (the
group join is not inference) to the last commit.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aios.bench.events import received_value
from aios.bench.model_speed import Throughput, raw_model
from aios.bench.report import save_figure
from aios.classify.backend import InferenceBackend
from aios.classify.handler import ClassifyHandler
from aios.classify.routes import ModelRef, Route, RoutingTable
from aios.inference.classifier import TextClassifier
from aios.kafka.deadletter import DEADLETTER_TOPIC
from aios.kafka.loop import ConsumerLoop, LoopSettings
from aios.kafka.producer import ReliableProducer
from aios.kafka.records import InputRecord, OutputRecord
from aios.kafka.scratch import ScratchTopics
from aios.schemas.serde import Codecs
from aios.settings import ConnectionSettings

RECEIVED, CLASSIFIED = "aios.events.received", "aios.events.classified"


def bench_events(texts: Sequence[str], tenant_id: str) -> list[dict[str, object]]:
    return [received_value(text, tenant_id, "bench.query") for text in texts]


class _TimedHandler:
    """The classify handler, with the wall time of each batch kept for percentiles."""

    def __init__(self, handler: ClassifyHandler) -> None:
        self.handler = handler
        self.batch_ms: list[float] = []

    def __call__(self, records: list[InputRecord]) -> list[OutputRecord]:
        started = time.perf_counter()
        outputs = self.handler(records)
        self.batch_ms.append((time.perf_counter() - started) * 1000)
        return outputs


def worker(
    connection: ConnectionSettings,
    backend: InferenceBackend,
    model: ModelRef,
    texts: Sequence[str],
    batch_size: int,
    label: str,
) -> Throughput:
    """The real consumer loop with the classify handler over `texts`, produced to a private topic first."""
    with ScratchTopics(connection.kafka_bootstrap, connection.schema_registry_url, prefix="bench") as scratch:
        source, sink, dead = scratch.make(RECEIVED, 6), scratch.make(CLASSIFIED, 6), scratch.make(DEADLETTER_TOPIC, 1)
        codecs = Codecs(
            connection.schema_registry_url, carries={source: RECEIVED, sink: CLASSIFIED, dead: DEADLETTER_TOPIC}
        )
        producer = ReliableProducer(connection.kafka_bootstrap, client_id="bench")
        for value in bench_events(texts, "bench"):
            producer.produce(source, codecs.encode(source, value), key=str(value["event_id"]))
        producer.flush()
        table = RoutingTable(default=Route(model))
        handler = _TimedHandler(ClassifyHandler(backend, lambda: table, output_topic=sink, service="classify-bench"))
        loop = ConsumerLoop(
            "classify-bench",
            f"bench-{uuid.uuid4().hex[:8]}",
            [source],
            handler,
            connection,
            LoopSettings(max_batch=batch_size, max_wait_ms=100, deadletter_topic=dead),
            codecs,
        )
        loop.subscribe()
        try:
            return _drain(loop, len(texts), handler, label)
        finally:
            loop.close()


def _drain(loop: ConsumerLoop, total: int, handler: _TimedHandler, label: str) -> Throughput:
    first = 0
    while first == 0:
        first = loop.run_once().consumed
    handler.batch_ms.clear()
    started, done = time.perf_counter(), first
    while done < total:
        done += loop.run_once().consumed
    return Throughput(label, total - first, time.perf_counter() - started, handler.batch_ms)


@dataclass
class ClassifyBenchResult:
    device: str
    batch_size: int
    rows: list[Throughput]
    ratios: dict[str, float]


def run_classify_bench(
    connection: ConnectionSettings,
    model: TextClassifier,
    backends: dict[str, InferenceBackend],
    ref: ModelRef,
    texts: Sequence[str],
    batch_size: int,
    single_texts: int,
) -> ClassifyBenchResult:
    """Raw model and worker per backend at `batch_size`, then both one record at a time on fewer texts."""
    rows = [raw_model(model, texts, batch_size)]
    for name, backend in backends.items():
        rows.append(worker(connection, backend, ref, texts, batch_size, f"worker ({name}), batch {batch_size}"))
    rows.append(raw_model(model, texts[:single_texts], 1))
    rows.append(worker(connection, backends["torch"], ref, texts[:single_texts], 1, "worker (torch), batch 1"))
    by_label = {row.label: row.rate for row in rows}
    ratios = {
        "worker (torch) / raw model": by_label[f"worker (torch), batch {batch_size}"] / rows[0].rate,
        f"raw model batch {batch_size} / batch 1": rows[0].rate / by_label["raw model, batch 1"],
        f"worker batch {batch_size} / batch 1": by_label[f"worker (torch), batch {batch_size}"]
        / by_label["worker (torch), batch 1"],
    }
    if "triton" in backends:
        ratios["worker (triton) / worker (torch)"] = (
            by_label[f"worker (triton), batch {batch_size}"] / by_label[f"worker (torch), batch {batch_size}"]
        )
    return ClassifyBenchResult(str(model.encoder.device), batch_size, rows, ratios)


def plot(result: ClassifyBenchResult, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.5))
    labels = [row.label for row in result.rows]
    ax.barh(labels, [row.rate for row in result.rows], color="#4c72b0")
    ax.invert_yaxis()
    ax.set_xlabel("sentences per second")
    ax.set_title(f"classify on {result.device}")
    save_figure(fig, path, dpi=120)


def markdown(result: ClassifyBenchResult, stamp: str, image: str) -> str:
    lines = [
        "## Classify: worker through Kafka vs the raw model",
        "",
        stamp,
        "",
        f"Device `{result.device}`, model batch {result.batch_size}, texts from CLINC150's test split. "
        "The raw model runs the forward pass and the out-of-scope decision on tensors already padded in memory; "
        "the worker runs the whole consumer loop (decode, route, tokenize, forward, produce with acks=all, commit); "
        "the Triton worker sends each batch to a Triton server on this machine (HTTP, dynamic batching), which runs "
        "the same model in its Python backend.",
        "",
        "| run | sentences/s | p50 batch ms | p99 batch ms |",
        "|---|---:|---:|---:|",
        *(f"| {row.label} | {row.rate:,.0f} | {row.p50_ms:.1f} | {row.p99_ms:.1f} |" for row in result.rows),
        "",
        "| ratio | value |",
        "|---|---:|",
        *(f"| {name} | {value:.2f} |" for name, value in result.ratios.items()),
        "",
        f"![classify throughput]({image})",
    ]
    return "\n".join(lines)
