"""What one review process opens at start-up and closes at shutdown, shared by every request."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from dataclasses import dataclass

import asyncpg
from redis.asyncio import Redis

from aios.db.migrations import migrate
from aios.db.pool import create_pool
from aios.extract.index import DocumentIndex
from aios.kafka.async_producer import AsyncProducer
from aios.kafka.serde import Codecs
from aios.kafka.topics import schema_bindings
from aios.keys.documents import sealed_store
from aios.objects.store import DocumentStore
from aios.observability import metrics
from aios.outbox.publisher import OutboxPublisher
from aios.review.accounts import ReviewerAccounts
from aios.review.intake import ReviewIntake
from aios.review.outbox import ReviewOutbox
from aios.review.pages import PageCache
from aios.review.settings import ReviewSettings
from aios.review.signin import LoginTokens, SignInThrottle, ThrottlePolicy
from aios.review.store import ReviewStore
from aios.settings import ConnectionSettings

log = logging.getLogger(__name__)

SERVICE = "review"


@dataclass
class ReviewParts:
    settings: ReviewSettings
    pool: asyncpg.Pool
    accounts: ReviewerAccounts
    store: ReviewStore
    producer: AsyncProducer
    outbox: OutboxPublisher
    intake: ReviewIntake
    tasks: list[asyncio.Task[None]]
    redis: Redis
    signin: SignInThrottle
    login_tokens: LoginTokens
    documents: DocumentStore
    extractions: DocumentIndex
    pages: PageCache

    async def close(self) -> None:
        await self.redis.aclose()
        for task in self.tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await asyncio.to_thread(self.intake.stop)
        await asyncio.to_thread(self.producer.close)
        await self.pool.close()


async def open_parts(settings: ReviewSettings, connection: ConnectionSettings) -> ReviewParts:
    """The database, the intake thread, the verdicts' outbox publisher, the gauges, the sign-in throttle, and
    the object store and page cache that show documents."""
    pool = await create_pool(connection.postgres_dsn.get_secret_value(), max_size=10)
    await migrate(pool)
    producer = AsyncProducer(connection.kafka_bootstrap, client_id=SERVICE)
    codecs = Codecs(connection.schema_registry_url, carries=schema_bindings(settings))
    outbox = OutboxPublisher(
        ReviewOutbox(pool, codecs, settings.completed_topic),
        producer,
        codecs,
        settings.deadletter_topic,
        service=SERVICE,
        poll_s=settings.outbox_interval_s,
        ack_timeout_s=settings.outbox_ack_timeout_s,
        report_pending=metrics.REVIEW_OUTBOX_PENDING.labels(SERVICE).set,
    )
    intake = ReviewIntake(settings, connection, SERVICE)
    intake.start()
    store = ReviewStore(pool)
    tasks = [
        asyncio.create_task(outbox.run()),
        asyncio.create_task(count_items(store, settings.gauges_interval_s)),
    ]
    redis = Redis.from_url(connection.redis_url)
    key = settings.signin_token_key
    return ReviewParts(
        settings=settings,
        pool=pool,
        accounts=ReviewerAccounts(pool),
        store=store,
        producer=producer,
        outbox=outbox,
        intake=intake,
        tasks=tasks,
        redis=redis,
        signin=_signin_throttle(redis, settings),
        login_tokens=LoginTokens(key.get_secret_value().encode() if key else secrets.token_bytes(32)),
        documents=sealed_store(pool),
        extractions=DocumentIndex(pool),
        pages=PageCache(settings.page_cache_dir, settings.page_scale),
    )


def _signin_throttle(redis: Redis, settings: ReviewSettings) -> SignInThrottle:
    return SignInThrottle(
        redis,
        ThrottlePolicy(
            settings.signin_free_failures,
            settings.signin_delay_s,
            settings.signin_lockout_failures,
            settings.signin_lockout_s,
        ),
        ThrottlePolicy(
            settings.signin_address_free_failures,
            settings.signin_delay_s,
            settings.signin_address_lockout_failures,
            settings.signin_lockout_s,
        ),
        settings.signin_window_s,
    )


async def count_items(store: ReviewStore, interval_s: float) -> None:
    """Open and overdue items and the oldest wait per tenant, for the gauges (overdue items show on the pages)."""
    seen: set[str] = set()
    while True:
        try:
            counts, waited = await store.counts(), await store.oldest_waiting()
            for tenant in seen | set(counts):
                open_items, overdue = counts.get(tenant, (0, 0))
                metrics.REVIEW_OPEN_ITEMS.labels(SERVICE, tenant).set(open_items)
                metrics.REVIEW_OVERDUE_ITEMS.labels(SERVICE, tenant).set(overdue)
                metrics.REVIEW_OLDEST_WAIT_SECONDS.labels(SERVICE, tenant).set(waited.get(tenant, 0.0))
            seen |= set(counts)
        except Exception:
            log.warning("%s: cannot count review items", SERVICE, exc_info=True)
        await asyncio.sleep(interval_s)
