"""Generative drafts: the local model's speed, and the retrieve-generate stage's sustained rate with it.

Model speed: drafts written one at a time by the stack's model server (the `openai` generator on
llama-cpp-python), demo queries with their retrieved passages; drafts/s and generated tokens/s.
Stage rate: the same classified events through the retrieve-generate handler in the real consumer
loop, once with the tenant's drafts extractive and once generative for every demo intent, side by
side. The generative run keeps the service's budget and queue, so it shows what a slow model costs
the pipeline (the budget per batch, at most) and how many drafts fall back.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass, field

import numpy as np
from rich.console import Console

from aios.bench.errors import BenchError
from aios.bench.model_speed import Throughput
from aios.bench.report import stamp, write_section
from aios.bench.retrieval import ARTICLES, _create_tenant, classified_value, labelled_queries, stage_throughput
from aios.db.pool import open_pool
from aios.db.scratch import scratch_database
from aios.generation.base import DraftRequest
from aios.generation.openai_chat import OpenAIGenerator
from aios.inference.encoder import SentenceEncoder
from aios.observability import metrics
from aios.retrieval.dense import DenseIndex
from aios.retrieval.documents import discover
from aios.retrieval.embedding import load_encoder
from aios.retrieval.ingestion import ingest_files
from aios.retrieval.retriever import Query, Retriever
from aios.retrieval.settings import RetrievalSettings
from aios.retrieval.store import KnowledgeBase
from aios.retrieval.types import Passage
from aios.retrieve_generate.settings import RetrieveGenerateSettings
from aios.settings import ConnectionSettings
from aios.stack.llm import MODEL_NAME, LlmServer
from aios.stack.settings import StackSettings


@dataclass
class DraftsBenchResult:
    drafts: int = 0
    seconds: float = 0.0
    tokens: int = 0
    per_draft_s: list[float] = field(default_factory=list)
    stages: dict[str, Throughput] = field(default_factory=dict)
    fallbacks: dict[str, int] = field(default_factory=dict)
    settings: RetrieveGenerateSettings = field(default_factory=RetrieveGenerateSettings)
    load: tuple[float, float] = (0.0, 0.0)


async def _passages(dsn: str, tenant: str, encoder: SentenceEncoder, texts: list[str], k: int) -> list[list[Passage]]:
    async with open_pool(dsn, max_size=1) as pool:
        retriever = Retriever(KnowledgeBase(pool), DenseIndex(encoder.device))
        kbs = await retriever.refresh([tenant])
        queries = [Query(tenant, t, v) for t, v in zip(texts, encoder.encode(texts), strict=True)]
        return await retriever.search(queries, k, "hybrid", kbs)


async def _setup(dsn: str, encoder: SentenceEncoder) -> str:
    tenant = await _create_tenant(dsn)
    async with open_pool(dsn, max_size=1) as pool:
        await ingest_files(KnowledgeBase(pool), encoder, tenant, list(discover([ARTICLES])), RetrievalSettings())
    return tenant


async def _generative(dsn: str, tenant: str) -> None:
    async with open_pool(dsn, max_size=1) as pool:
        await KnowledgeBase(pool).configure(tenant, "openai")


def run_drafts_bench(
    connection: ConnectionSettings, console: Console, drafts: int, events: int, batch: int
) -> DraftsBenchResult:
    server = LlmServer(StackSettings())
    if not server.healthy():
        raise BenchError(f"no model server at {server.url}: `aios stack llm` (make setup), then `aios stack up`")
    settings = RetrieveGenerateSettings(openai_url=server.url)
    result = DraftsBenchResult(settings=settings, load=(os.getloadavg()[0], 0.0))
    encoder = load_encoder()
    sample = labelled_queries(max(drafts, events))
    with scratch_database(connection.postgres_dsn.get_secret_value(), "aios_bench") as dsn:
        tenant = asyncio.run(_setup(dsn, encoder))
        texts = [text for text, _ in sample[:drafts]]
        found = asyncio.run(_passages(dsn, tenant, encoder, texts, settings.passages))
        generator = OpenAIGenerator(server.url, MODEL_NAME, concurrency=1, timeout_s=120)
        with console.status(f"model speed: {drafts} drafts one at a time"):
            for (text, label), passages in zip(sample[:drafts], found, strict=True):
                started = time.perf_counter()
                generator.generate([DraftRequest(text, label, passages)])
                result.per_draft_s.append(time.perf_counter() - started)
        result.drafts, result.seconds, result.tokens = drafts, sum(result.per_draft_s), generator.completion_tokens
        values = [classified_value(text, tenant, label) for text, label in sample[:events]]
        with console.status(f"retrieve-generate, extractive: {events} events"):
            result.stages["extractive"] = stage_throughput(
                connection, dsn, encoder, values, settings, "drafts-bench-extractive", batch=batch
            )
        asyncio.run(_generative(dsn, tenant))
        values = [classified_value(text, tenant, label) for text, label in sample[:events]]
        with console.status(f"retrieve-generate, generative: {events} events"):
            result.stages["openai"] = stage_throughput(
                connection, dsn, encoder, values, settings, "drafts-bench-openai", batch=batch
            )
    result.fallbacks = {
        sample.labels["reason"]: int(sample.value)
        for metric in metrics.DRAFT_FALLBACKS.collect()
        for sample in metric.samples
        if sample.name.endswith("_total") and sample.labels["service"] == "drafts-bench-openai"
    }
    result.load = (result.load[0], os.getloadavg()[0])
    return result


def markdown(result: DraftsBenchResult, stamp_line: str, batch: int) -> str:
    per_draft = np.array(result.per_draft_s)
    settings = result.settings
    fell_back = sum(result.fallbacks.values())
    reasons = ", ".join(f"{reason} {count}" for reason, count in sorted(result.fallbacks.items())) or "none"
    lines = [
        "## Generative drafts: local model speed, retrieve-generate with and without it",
        "",
        stamp_line,
        "",
        f"Model: SmolLM2-135M-Instruct (Q4_1 GGUF) on llama-cpp-python's OpenAI-compatible server, "
        f"`{os.cpu_count()}` cores shared with the stack; 1-minute load average {result.load[0]:.1f} at the start "
        f"and {result.load[1]:.1f} at the end.",
        "",
        f"**Model speed**: {result.drafts} drafts written one at a time (demo queries, 5 retrieved passages each): "
        f"**{result.drafts / result.seconds:.2f} drafts/s**, **{result.tokens / result.seconds:.1f} tokens/s** "
        f"generated; per draft p50 {np.percentile(per_draft, 50):.2f} s, p99 {np.percentile(per_draft, 99):.2f} s.",
        "",
        "| retrieve-generate stage | events/s | batch p50 ms | batch p99 ms | events |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, stage in result.stages.items():
        lines.append(f"| {name} | {stage.rate:,.1f} | {stage.p50_ms:,.0f} | {stage.p99_ms:,.0f} | {stage.records} |")
    lines += [
        "",
        f"Generative run: the tenant's generator is `openai` for every intent; budget {settings.draft_budget_s:g} s "
        f"per batch, queue {settings.draft_queue_size}, {settings.openai_concurrency} requests in flight, batches "
        f"of up to {batch} events. Fallbacks to the extractive draft: {fell_back} ({reasons}). "
        "The stage's rate is bounded by the budget, not by the model: a batch waits at most the budget for its "
        "drafts, so a slow or stopped model costs drafts, not the pipeline.",
    ]
    return "\n".join(lines)


def drafts_section(console: Console, connection: ConnectionSettings, drafts: int, events: int, batch: int) -> None:
    result = run_drafts_bench(connection, console, drafts, events, batch)
    report = write_section("drafts", markdown(result, stamp("make bench"), batch))
    console.print(f"wrote {report}")
