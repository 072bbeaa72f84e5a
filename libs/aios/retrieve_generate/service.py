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
from aios.generation.extractive import ExtractiveGenerator
from aios.generation.triton import TritonGenerator
from aios.inference.encoder import SentenceEncoder
from aios.inference.settings import ModelSettings
from aios.kafka.deadletter import DEADLETTER_TOPIC
from aios.kafka.errors import TransientError
from aios.kafka.loop import ConsumerLoop, LoopSettings
from aios.observability import metrics
from aios.observability.metrics import serve_metrics
from aios.pii import KINDS as PII_KINDS
from aios.retrieval.dense import DenseIndex
from aios.retrieval.embedding import load_encoder
from aios.retrieval.retriever import Retriever
from aios.retrieval.settings import RetrievalSettings
from aios.retrieval.store import KnowledgeBase
from aios.retrieve_generate.handler import RetrieveGenerateHandler
from aios.retrieve_generate.settings import CLASSIFIED_TOPIC, ENRICHED_TOPIC, RetrieveGenerateSettings
from aios.schemas.serde import Codecs
from aios.settings import ConnectionSettings

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


def make_generators(settings: RetrieveGenerateSettings, encoder: SentenceEncoder) -> dict[str, Generator]:
    """Every generator a tenant may choose; the Triton one connects on first use."""
    return {
        "extractive": ExtractiveGenerator(
            encoder,
            max_sentences=settings.max_sentences,
            min_similarity=settings.min_similarity,
            min_relative_similarity=settings.min_relative_similarity,
        ),
        "triton": TritonGenerator(settings.triton_url, settings.triton_model),
    }


def run_worker(
    settings: RetrieveGenerateSettings | None = None,
    connection: ConnectionSettings | None = None,
    loop_settings: LoopSettings | None = None,
) -> None:
    """Enrich classified events until SIGTERM (the batch in hand is finished and committed first)."""
    settings = settings or RetrieveGenerateSettings()
    connection = connection or ConnectionSettings()
    loop_settings = loop_settings or LoopSettings()
    retrieval = RetrievalSettings()
    encoder = load_encoder(ModelSettings())
    database = Database(connection.postgres_dsn.get_secret_value())
    retriever = Retriever(
        KnowledgeBase(database.pool, retrieval.text_search_config), DenseIndex(encoder.device), retrieval
    )
    handler = RetrieveGenerateHandler(
        retriever, encoder, make_generators(settings, encoder), database.run, settings, SERVICE
    )
    serve_metrics(settings.metrics_port)
    metrics.start_at_zero(metrics.PII_REDACTED, SERVICE, PII_KINDS)
    # Topics may be renamed (a test's private topics): say which catalogue schemas they carry.
    codecs = Codecs(
        connection.schema_registry_url,
        carries={
            settings.input_topic: CLASSIFIED_TOPIC,
            settings.output_topic: ENRICHED_TOPIC,
            loop_settings.deadletter_topic: DEADLETTER_TOPIC,
        },
    )
    try:
        ConsumerLoop(
            SERVICE, settings.group_id, [settings.input_topic], handler, connection, loop_settings, codecs
        ).run()
    finally:
        database.close()
