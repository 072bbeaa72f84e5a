"""Retrieval benchmark: search latency against knowledge-base size, and retrieve-generate throughput through Kafka.

Latency: one tenant's knowledge base grown to 1k, 10k and 100k chunks in a private database.
Chunk texts are synthetic, words drawn with the frequencies of the demo articles, so PostgreSQL
builds real tsvectors and the GIN index does real work; chunk embeddings are random unit
vectors (384 values), which cost the dense search exactly what real ones cost while saving
100k encoder passes. Queries are real: CLINC150 banking and credit-card test utterances,
embedded by the encoder before the clock starts; each is searched alone (one event's worth).
Lexical search is measured twice: as configured (candidates bounded by the lexical budget) and
scoring every matching chunk, side by side, so the budget's effect is a ratio on one machine.

Throughput: the real consumer loop with the retrieve-generate handler (extractive generator) on
private topics, against the demo knowledge base, over events made of those utterances with their
intent as label; the rate counts from the end of the first batch (the group join is not work)
to the last commit.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console

from aios.bench.events import received_value
from aios.bench.model_speed import Throughput
from aios.bench.report import save_figure, stamp, write_section
from aios.bench.worker import run_worker
from aios.db.pool import open_pool
from aios.db.scratch import scratch_database
from aios.inference.encoder import SentenceEncoder
from aios.kafka import topics
from aios.observability import metrics
from aios.paths import project_root
from aios.retrieval.dense import DenseIndex
from aios.retrieval.documents import discover
from aios.retrieval.embedding import load_encoder
from aios.retrieval.ingestion import ingest_files
from aios.retrieval.retriever import Query, Retriever
from aios.retrieval.settings import MODES, Mode, RetrievalSettings
from aios.retrieval.store import KnowledgeBase, NewDocument
from aios.retrieve_generate.handler import RetrieveGenerateHandler
from aios.retrieve_generate.service import Database, make_drafter
from aios.retrieve_generate.settings import RetrieveGenerateSettings
from aios.settings import ConnectionSettings
from aios.stats import percentile
from aios.tenants.store import TenantStore

SIZES = (1_000, 10_000, 100_000)
EVERY_MATCH = "lexical, every match"
CHUNKS_PER_DOCUMENT = 10
WORDS_PER_CHUNK = (40, 90)
ARTICLES = project_root() / "data" / "kb" / "demo" / "articles"
QA = project_root() / "data" / "kb" / "demo" / "qa.jsonl"


def classified_value(text: str, tenant_id: str, label: str, confidence: float = 0.9) -> dict[str, Any]:
    """An `aios.EventClassified` value as the classify worker writes it."""
    received = received_value(text, tenant_id)
    return {
        **{name: received[name] for name in ("event_id", "tenant_id", "occurred_at", "type", "text", "attributes")},
        "classification": {
            "label": label,
            "confidence": confidence,
            "oos": label == "oos",
            "top_k": [{"label": label, "confidence": confidence}],
            "model_name": "intents",
            "model_version": 1,
            "model_alias": "production",
            "backend": "torch",
            "inference_ms": 1.0,
        },
        "shadow": None,
        "trace": received["trace"],
    }


@dataclass(frozen=True)
class Latency:
    chunks: int
    mode: str
    samples_ms: list[float]

    @property
    def p50(self) -> float:
        return percentile(self.samples_ms, 50)

    @property
    def p99(self) -> float:
        return percentile(self.samples_ms, 99)


@dataclass
class RetrievalBenchResult:
    device: str
    queries: int
    sizes: tuple[int, ...] = SIZES
    latencies: list[Latency] = field(default_factory=list)
    reload_s: dict[int, float] = field(default_factory=dict)
    service: Throughput = field(default_factory=lambda: Throughput("retrieve-generate", 0, 0.0))
    outcomes: dict[str, int] = field(default_factory=dict)
    load: tuple[float, float] = (0.0, 0.0)
    """1-minute load average when the run started and when it ended: how much else ran on the machine."""


def labelled_queries(limit: int) -> list[tuple[str, str]]:
    """(utterance, intent) from the demo evaluation file, in a fixed shuffled order."""
    rows = [json.loads(line) for line in QA.read_text(encoding="utf-8").splitlines() if line.strip()]
    order = np.random.default_rng(0).permutation(len(rows))[:limit]
    return [(rows[i]["query"], rows[i]["intent"]) for i in order]


def word_distribution() -> tuple[list[str], np.ndarray]:
    """Words of the demo articles and their relative frequencies."""
    counts = Counter(
        word.lower().strip(".,:;()*#!?\"'")
        for path in ARTICLES.glob("*.md")
        for word in path.read_text(encoding="utf-8").split()
    )
    words = [word for word in counts if word.isalpha()]
    weights = np.array([counts[word] for word in words], dtype=np.float64)
    return words, weights / weights.sum()


def synthetic_documents(first: int, count: int, rng: np.random.Generator, dim: int) -> list[NewDocument]:
    """`count` chunks in documents of ten: random text with the demo's word frequencies, random unit vectors."""
    words, probabilities = word_distribution()
    documents = []
    for start in range(first, first + count, CHUNKS_PER_DOCUMENT):
        chunks = [
            " ".join(rng.choice(words, size=rng.integers(*WORDS_PER_CHUNK), p=probabilities)).capitalize() + "."
            for _ in range(CHUNKS_PER_DOCUMENT)
        ]
        vectors = rng.standard_normal((CHUNKS_PER_DOCUMENT, dim)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        documents.append(
            NewDocument(
                f"synthetic-{start // CHUNKS_PER_DOCUMENT:06d}", f"Synthetic {start}", "bench", "", chunks, vectors
            )
        )
    return documents


async def latency_sweep(
    dsn: str, tenant: str, encoder: SentenceEncoder, queries: Sequence[str], result: RetrievalBenchResult
) -> None:
    rng = np.random.default_rng(1)
    vectors = encoder.encode(list(queries))
    async with open_pool(dsn, max_size=2) as pool:
        kb = KnowledgeBase(pool)
        retriever = Retriever(kb, DenseIndex(encoder.device))
        every_match = Retriever(kb, retriever.index, RetrievalSettings(lexical_budget=max(result.sizes)))
        loaded = 0
        for size in result.sizes:
            for start in range(loaded, size, 5_000):
                await kb.put_documents(tenant, synthetic_documents(start, min(5_000, size - start), rng, encoder.dim))
            loaded = size
            await pool.execute("ANALYZE kb_chunks")
            started = time.perf_counter()
            kbs = await retriever.refresh([tenant])
            result.reload_s[size] = time.perf_counter() - started
            await every_match.refresh([tenant])
            runs: list[tuple[str, Retriever, Mode]] = [(mode, retriever, mode) for mode in MODES]
            runs.append((EVERY_MATCH, every_match, "lexical"))
            for name, searcher, mode in runs:
                samples = []
                for text, vector in zip(queries, vectors, strict=True):
                    started = time.perf_counter()
                    await searcher.search([Query(tenant, text, vector)], 5, mode, kbs)
                    samples.append((time.perf_counter() - started) * 1000)
                result.latencies.append(Latency(size, name, samples))


def service_throughput(
    connection: ConnectionSettings,
    dsn: str,
    tenant: str,
    encoder: SentenceEncoder,
    events: Sequence[tuple[str, str]],
    result: RetrievalBenchResult,
    *,
    batch: int,
) -> None:
    service = "retrieve-generate-bench"
    values = [classified_value(text, tenant, label) for text, label in events]
    result.service = stage_throughput(
        connection, dsn, encoder, values, RetrieveGenerateSettings(), service, batch=batch
    )
    result.outcomes = {
        sample.labels["outcome"]: int(sample.value)
        for metric in metrics.DRAFTS.collect()
        for sample in metric.samples
        if sample.name.endswith("_total") and sample.labels["service"] == service
    }


def stage_throughput(
    connection: ConnectionSettings,
    dsn: str,
    encoder: SentenceEncoder,
    values: Sequence[dict[str, Any]],
    settings: RetrieveGenerateSettings,
    service: str,
    *,
    batch: int,
) -> Throughput:
    """Classified events through the retrieve-generate handler in the real consumer loop, on private topics."""
    database = Database(dsn)
    retriever = Retriever(KnowledgeBase(database.pool), DenseIndex(encoder.device), RetrievalSettings())
    drafter = make_drafter(settings, encoder, service)

    def handler(sink: str) -> RetrieveGenerateHandler:
        return RetrieveGenerateHandler(
            retriever, encoder, drafter, database.run, settings.model_copy(update={"output_topic": sink}), service
        )

    try:
        return run_worker(
            connection,
            (topics.EVENTS_CLASSIFIED.name, topics.EVENTS_ENRICHED.name),
            values,
            handler,
            service,
            max_batch=batch,
            label="retrieve-generate",
        )
    finally:
        drafter.close()
        database.close()


async def _create_tenant(dsn: str) -> str:
    async with open_pool(dsn, max_size=1) as pool:
        return (await TenantStore(pool).create_tenant("bench")).tenant_id


def run_retrieval_bench(
    connection: ConnectionSettings,
    queries: int,
    events: int,
    batch: int,
    console: Console,
    sizes: tuple[int, ...] = SIZES,
) -> RetrievalBenchResult:
    shared = connection.postgres_dsn.get_secret_value()
    encoder = load_encoder()
    result = RetrievalBenchResult(str(encoder.device), queries, sizes)
    sample = labelled_queries(max(queries, events))
    load_before = os.getloadavg()[0]
    with (
        scratch_database(shared, "aios_bench") as latency_dsn,
        scratch_database(shared, "aios_bench") as service_dsn,
    ):
        latency_tenant = asyncio.run(_create_tenant(latency_dsn))
        with console.status(f"retrieval latency at {', '.join(f'{s:,}' for s in sizes)} chunks"):
            asyncio.run(latency_sweep(latency_dsn, latency_tenant, encoder, [q for q, _ in sample[:queries]], result))
        service_tenant = asyncio.run(_create_tenant(service_dsn))
        files = list(discover([ARTICLES]))

        async def load_demo() -> None:
            async with open_pool(service_dsn, max_size=1) as pool:
                await ingest_files(KnowledgeBase(pool), encoder, service_tenant, files, RetrievalSettings())

        asyncio.run(load_demo())
        with console.status(f"retrieve-generate through Kafka: {events} events"):
            service_throughput(connection, service_dsn, service_tenant, encoder, sample[:events], result, batch=batch)
    result.load = (load_before, os.getloadavg()[0])
    return result


def plot(result: RetrievalBenchResult, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for mode, color in zip((*MODES, EVERY_MATCH), ("#dd8452", "#55a868", "#4c72b0", "#8c8c8c"), strict=True):
        rows = [row for row in result.latencies if row.mode == mode]
        ax.plot([r.chunks for r in rows], [r.p50 for r in rows], "o-", color=color, label=f"{mode} p50")
        ax.plot([r.chunks for r in rows], [r.p99 for r in rows], "s--", color=color, alpha=0.6, label=f"{mode} p99")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("chunks in the tenant's knowledge base")
    ax.set_ylabel("search latency (ms, one query, top 5)")
    ax.set_title(f"retrieval latency ({result.device})")
    ax.legend(fontsize=7, ncol=2)
    save_figure(fig, path)


def markdown(result: RetrievalBenchResult, stamp_line: str, image: str) -> str:
    settings = RetrievalSettings()
    lines = [
        "## Retrieval: search latency by knowledge-base size, retrieve-generate throughput",
        "",
        stamp_line,
        "",
        f"One tenant's knowledge base grown to {', '.join(f'{s:,}' for s in result.sizes)} chunks "
        "in a private database; "
        "chunk texts are synthetic (words drawn with the demo articles' frequencies, so tsvectors and the GIN index "
        "are real), **chunk embeddings are random unit vectors** (same cost for the dense search as real ones). "
        f"{result.queries} real queries (CLINC150 banking and credit-card test utterances), each searched alone "
        f"for the top 5 chunks; dense on `{result.device}`. Hybrid runs both searches and fuses them "
        f"({settings.fusion}, over {settings.candidates} candidates each). 1-minute load average "
        f"{result.load[0]:.1f} at the start and {result.load[1]:.1f} at the end of the run, on {os.cpu_count()} cores.",
        "",
        "| chunks | lexical p50 ms | lexical p99 ms | dense p50 ms | dense p99 ms | hybrid p50 ms | hybrid p99 ms |"
        " lexical, every match p50 ms | lexical, every match p99 ms | reload s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size in result.sizes:
        by_mode = {row.mode: row for row in result.latencies if row.chunks == size}
        cells = " | ".join(f"{by_mode[m].p50:.1f} | {by_mode[m].p99:.1f}" for m in (*MODES, EVERY_MATCH))
        lines.append(f"| {size:,} | {cells} | {result.reload_s[size]:.2f} |")
    outcomes = ", ".join(f"{name} {count}" for name, count in sorted(result.outcomes.items()))
    service = result.service
    lines += [
        "",
        "Reload: reading the tenant's embeddings (dense index) and term statistics (`ts_stat`, for BM25) from "
        "PostgreSQL after a KB change.",
        "Lexical search is BM25, and a GIN index finds matching chunks but cannot order them, so every candidate is "
        "scored. *lexical* bounds the candidates (`AIOS_KB_LEXICAL_BUDGET`, "
        f"{settings.lexical_budget}): chunks holding the query's rarest words while their chunk frequencies add up "
        "to at most the budget, at least the rarest word's, capped at the budget. *lexical, every match* scores "
        "every chunk holding any query word, as lexical search did before the budget; the synthetic chunks share "
        "the demo's vocabulary, so nearly every chunk matches, a worst case for it.",
        "",
        f"**Service throughput**: the consumer loop with the retrieve-generate handler (extractive generator, demo "
        f"knowledge base of 30 articles) on private topics: **{service.rate:,.0f} events/s** over "
        f"{service.records} events (batch p50 {service.p50_ms:.0f} ms, p99 {service.p99_ms:.0f} ms; "
        f"outcomes: {outcomes}). Each batch embeds its queries in one encoder call; draft sentences are embedded "
        "once and cached, so after the first batches a draft costs dot products only.",
        "",
        f"![retrieval latency]({image})",
    ]
    return "\n".join(lines)


def retrieval_section(console: Console, connection: ConnectionSettings, queries: int, events: int, batch: int) -> None:
    result = run_retrieval_bench(connection, queries, events, batch, console)
    image = project_root() / "docs" / "bench" / "retrieval.png"
    plot(result, image)
    report = write_section("retrieval", markdown(result, stamp("make bench"), "bench/retrieval.png"))
    console.print(f"wrote {report} and {image}")
