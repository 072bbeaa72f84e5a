"""Classify benchmark: the worker through Kafka vs the raw model, batched vs one at a time, torch vs Triton.

The raw model is the encoder's forward pass plus the out-of-scope decision on token tensors
already padded in memory: the ceiling the worker approaches. The worker runs the real consumer
loop (decode, route, tokenize, forward, encode, produce with acks=all, commit) on events
produced beforehand to a private topic; its rate counts from the end of its first batch (the
group join is not inference) to the last commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aios.bench.events import received_value
from aios.bench.model_speed import Throughput, plot_rates, raw_model, throughput_tables
from aios.bench.report import save_figure
from aios.bench.worker import run_worker
from aios.classify.backend import InferenceBackend
from aios.classify.handler import ClassifyHandler
from aios.classify.routes import ModelRef, Route, RoutingTable
from aios.inference.classifier import TextClassifier
from aios.kafka import topics
from aios.kafka.loop import LoopSettings
from aios.settings import ConnectionSettings

RECEIVED, CLASSIFIED = topics.EVENTS_RECEIVED.name, topics.EVENTS_CLASSIFIED.name


def bench_events(texts: Sequence[str], tenant_id: str) -> list[dict[str, object]]:
    return [received_value(text, tenant_id, "bench.query") for text in texts]


def worker(
    connection: ConnectionSettings,
    backend: InferenceBackend,
    model: ModelRef,
    texts: Sequence[str],
    max_batch: int,
    label: str,
) -> Throughput:
    """The real consumer loop with the classify handler over `texts`, produced to a private topic first;
    the loop hands over up to `max_batch` records, which the backend runs in model batches."""
    table = RoutingTable(default=Route(model))
    return run_worker(
        connection,
        (RECEIVED, CLASSIFIED),
        bench_events(texts, "bench"),
        lambda sink: ClassifyHandler(backend, lambda: table, output_topic=sink, service="classify-bench"),
        "classify-bench",
        max_batch=max_batch,
        label=label,
    )


@dataclass
class ClassifyBenchResult:
    device: str
    batch_size: int
    loop_batch: int
    rows: list[Throughput]
    ratios: dict[str, float]


def run_classify_bench(
    connection: ConnectionSettings,
    model: TextClassifier,
    backends: dict[str, InferenceBackend],
    ref: ModelRef,
    texts: Sequence[str],
    *,
    batch_size: int,
    single_texts: int,
) -> ClassifyBenchResult:
    """Raw model and worker per backend at model batch `batch_size`, then both one record at a time on fewer texts.

    The workers run as deployed: the loop hands over up to `LoopSettings().max_batch` records, which
    the backend splits into length-sorted model batches of `batch_size`, as the raw model's are.
    """
    loop_batch = LoopSettings().max_batch
    rows = [raw_model(model, texts, batch_size)]
    for name, backend in backends.items():
        rows.append(worker(connection, backend, ref, texts, loop_batch, f"worker ({name}), batch {batch_size}"))
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
    return ClassifyBenchResult(str(model.encoder.device), batch_size, loop_batch, rows, ratios)


def plot(result: ClassifyBenchResult, path: Path) -> None:
    fig, _ = plot_rates(result.rows, f"classify on {result.device}", color="#4c72b0")
    save_figure(fig, path, dpi=120)


def markdown(result: ClassifyBenchResult, stamp: str, image: str) -> str:
    lines = [
        "## Classify: worker through Kafka vs the raw model",
        "",
        stamp,
        "",
        f"Device `{result.device}`, model batch {result.batch_size}, texts from CLINC150's test split. "
        "The raw model runs the forward pass and the out-of-scope decision on tensors already padded in memory; "
        "the worker runs the whole consumer loop (decode, route, tokenize, forward, produce with acks=all, commit) "
        f"as deployed: the loop hands it up to {result.loop_batch} records (`AIOS_LOOP_MAX_BATCH`), which it runs "
        f"in length-sorted model batches of {result.batch_size}, as the raw model's batches are length-sorted; "
        "the workers' batch latencies are per loop batch, and their batch-1 rows get one record at a time. "
        "The Triton worker sends each batch to a Triton server on this machine (HTTP, dynamic batching, requests "
        "of similar length), which runs the same model in its Python backend.",
        "",
        *throughput_tables(result.rows, result.ratios, ms_digits=1, ratio_digits=2),
        "",
        f"![classify throughput]({image})",
    ]
    return "\n".join(lines)
