"""What every request of one ingest worker shares, opened at its start and closed at its end."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
from redis.asyncio import Redis

from aios.ingest.accept import EventAcceptor
from aios.ingest.idempotency import IdempotencyKeys
from aios.ingest.quotas import TenantQuotas
from aios.ingest.redis_batching import BatchingRedis
from aios.ingest.replay import ReplayGuard
from aios.ingest.settings import IngestSettings
from aios.ingest.status import EventStatusStore
from aios.ingest.waiting import SubmissionAnswers
from aios.kafka.async_producer import AsyncProducer
from aios.kafka.serde import Codecs
from aios.kafka.topics import schema_bindings
from aios.keys.documents import sealed_store
from aios.objects.store import DocumentStore
from aios.observability.tracing import configure_tracing
from aios.outcomes.waiter import OutcomeWaiter
from aios.settings import ConnectionSettings
from aios.tenants.auth import Authenticator
from aios.tenants.store import TenantStore


@dataclass
class IngestParts:
    acceptor: EventAcceptor
    answers: SubmissionAnswers
    auth: Authenticator
    replay: ReplayGuard
    status: EventStatusStore
    producer: AsyncProducer
    redis: Redis
    pool: asyncpg.Pool
    registry_url: str
    documents: DocumentStore


@asynccontextmanager
async def open_parts(settings: IngestSettings, connection: ConnectionSettings) -> AsyncIterator[IngestParts]:
    """In each worker process: spans, pools and the producer are per process."""
    from aios.db.migrations import migrate

    configure_tracing("ingest")
    pool = await asyncpg.create_pool(connection.postgres_dsn.get_secret_value(), min_size=1, max_size=10)
    await migrate(pool)
    redis = BatchingRedis.from_url(connection.redis_url)
    producer = AsyncProducer(connection.kafka_bootstrap, client_id="ingest")
    codecs = Codecs(connection.schema_registry_url, carries=schema_bindings(settings))
    status = EventStatusStore(redis, settings.status_ttl_s)
    auth = Authenticator(TenantStore(pool), settings.auth_cache_s)
    await auth.listen()
    waiter = OutcomeWaiter(connection.redis_url, redis)
    await waiter.start()
    documents = sealed_store(pool)
    parts = IngestParts(
        acceptor=EventAcceptor(
            producer,
            codecs,
            TenantQuotas(redis, settings.quota_rate_per_s, settings.quota_burst),
            IdempotencyKeys(redis, settings.idempotency_ttl_s, stale_after_s=settings.ack_timeout_s),
            status,
            ack_timeout_s=settings.ack_timeout_s,
            topic=settings.topic,
        ),
        answers=SubmissionAnswers(waiter, settings.base_url(), settings.max_wait_s),
        auth=auth,
        replay=ReplayGuard(redis, settings.signature_tolerance_s),
        status=status,
        producer=producer,
        redis=redis,
        pool=pool,
        registry_url=connection.schema_registry_url,
        documents=documents,
    )
    # What start-up made (modules, pools, settings) lives as long as the process: keeping it out of
    # the collector's generations makes each collection during requests short (tail latency).
    gc.collect()
    gc.freeze()
    try:
        yield parts
    finally:
        await waiter.close()
        await asyncio.to_thread(producer.close)
        await redis.aclose()
        await auth.close()
        await pool.close()
