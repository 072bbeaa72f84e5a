"""The retrieve-generate worker assembled: encoder, knowledge base, generators, handler and the consumer loop.

The knowledge base is read with asyncpg on an event loop this worker owns; the consumer loop calls
the handler on the same thread, which runs each database step to completion on that loop. A
database that cannot be reached is a `TransientError`: the batch is retried, never dead-lettered.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import TypeVar

import asyncpg

from aios.db.migrations import migrate
from aios.db.pool import create_pool
from aios.generation.base import Generator
from aios.generation.budget import BudgetedGenerator
from aios.generation.drafter import Drafter
from aios.generation.endpoints import EndpointGenerators
from aios.generation.extractive import ExtractiveGenerator
from aios.generation.grounding import GroundingGuard
from aios.generation.openai_chat import OpenAIGenerator
from aios.generation.triton import TritonGenerator
from aios.inference.encoder import SentenceEncoder
from aios.inference.settings import ModelSettings
from aios.kafka.errors import TransientError
from aios.observability import metrics
from aios.pii import KINDS as PII_KINDS
from aios.retrieval.dense import DenseIndex
from aios.retrieval.embedding import load_encoder
from aios.retrieval.endpoint import GeneratorEndpoint
from aios.retrieval.retriever import Retriever
from aios.retrieval.settings import RetrievalSettings
from aios.retrieval.store import KnowledgeBase
from aios.retrieve_generate.handler import RetrieveGenerateHandler
from aios.retrieve_generate.settings import RetrieveGenerateSettings
from aios.runtime.worker import Worker, WorkerSpec

log = logging.getLogger(__name__)

SERVICE = "retrieve-generate"
T = TypeVar("T")

_UNAVAILABLE: tuple[type[Exception], ...] = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
)


class Database:
    """A pool on a private event loop, driven from synchronous code (the consumer loop's thread)."""

    def __init__(self, dsn: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.pool: asyncpg.Pool = self.loop.run_until_complete(create_pool(dsn, min_size=1, max_size=2))
        self.loop.run_until_complete(migrate(self.pool))

    def run(self, work: Awaitable[T]) -> T:
        try:
            return self.loop.run_until_complete(work)
        except _UNAVAILABLE as exc:
            raise TransientError(f"knowledge base unavailable: {exc!r}") from exc

    def close(self) -> None:
        self.loop.run_until_complete(self.pool.close())
        self.loop.close()


def make_drafter(settings: RetrieveGenerateSettings, encoder: SentenceEncoder, service: str = SERVICE) -> Drafter:
    """Every generator a tenant may choose, the generative ones guarded and budgeted; they connect on first use."""
    extractive = ExtractiveGenerator(
        encoder,
        max_sentences=settings.max_sentences,
        min_similarity=settings.min_similarity,
        min_relative_similarity=settings.min_relative_similarity,
    )

    def budgeted(generator: Generator) -> BudgetedGenerator:
        return BudgetedGenerator(generator, queue_size=settings.draft_queue_size, budget_s=settings.draft_budget_s)

    def tenant_server(endpoint: GeneratorEndpoint) -> BudgetedGenerator:
        return budgeted(openai_generator(endpoint.base_url, endpoint.model, endpoint.api_key))

    def openai_generator(url: str, model: str, api_key: str | None) -> OpenAIGenerator:
        return OpenAIGenerator(
            url,
            model,
            api_key=api_key,
            timeout_s=settings.openai_timeout_s,
            retries=settings.openai_retries,
            concurrency=settings.openai_concurrency,
        )

    api_key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    generative: list[Generator] = [
        TritonGenerator(settings.triton_url, settings.triton_model),
        openai_generator(settings.openai_url, settings.openai_model, api_key),
    ]
    guard = GroundingGuard(
        encoder,
        min_similarity=settings.guard_min_similarity,
        min_word_coverage=settings.guard_min_word_coverage,
        min_kept=settings.guard_min_kept,
    )
    endpoints = EndpointGenerators(tenant_server)
    return Drafter(extractive, {g.name: budgeted(g) for g in generative}, guard, service, endpoints)


def start_retrieve_generate(worker: Worker[RetrieveGenerateSettings]) -> RetrieveGenerateHandler:
    """Load the encoder and open the knowledge base (closed at shutdown); the handler enriches."""
    settings = worker.settings
    retrieval = RetrievalSettings()
    encoder = load_encoder(ModelSettings())
    database = Database(worker.connection.postgres_dsn.get_secret_value())
    worker.on_close(database.close)
    metrics.start_at_zero(metrics.PII_REDACTED, SERVICE, PII_KINDS)
    retriever = Retriever(
        KnowledgeBase(database.pool, retrieval.text_search_config), DenseIndex(encoder.device), retrieval
    )
    drafter = make_drafter(settings, encoder)
    worker.on_close(drafter.close)
    return RetrieveGenerateHandler(retriever, encoder, drafter, database.run, settings, SERVICE)


def retrieve_generate_worker(settings: RetrieveGenerateSettings) -> WorkerSpec[RetrieveGenerateSettings]:
    """Enrich classified events until SIGTERM (the batch in hand is finished and committed first)."""
    return WorkerSpec(SERVICE, settings, consume=start_retrieve_generate)
