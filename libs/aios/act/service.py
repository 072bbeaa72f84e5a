"""The act service assembled: inbox intake on the shared consumer loop, executor and outbox publisher beside it.

The consumer loop runs on the main thread (SIGTERM drains it); the asyncio side (PostgreSQL
pool, HTTP client, executor, publisher) runs on a background loop. On the way out the loop
commits its last batch, the executor lets actions under way finish for `drain_s`, and the
publisher empties the outbox.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import asyncpg
import httpx

from aios.act.executor import Executor
from aios.act.intake import ActIntake
from aios.act.plan import ACTION_FAILED, COMPENSATION_FAILED
from aios.act.publisher import OutboxPublisher
from aios.act.reports import Reports
from aios.act.settings import DECISIONS_TOPIC, EXECUTED_TOPIC, ActSettings
from aios.act.store import ActStore
from aios.connectors.config import ConnectorConfigs
from aios.connectors.registry import default_connectors
from aios.db.migrations import migrate
from aios.db.pool import create_pool
from aios.kafka.async_producer import AsyncProducer
from aios.kafka.deadletter import DEADLETTER_TOPIC
from aios.kafka.loop import ConsumerLoop, LoopSettings
from aios.observability import metrics
from aios.observability.metrics import serve_metrics
from aios.runtime.background import BackgroundLoop
from aios.schemas.serde import Codecs
from aios.settings import ConnectionSettings

log = logging.getLogger(__name__)

SERVICE = "act"


@dataclass
class ActRuntime:
    """The asyncio parts of one act instance."""

    pool: asyncpg.Pool
    client: httpx.AsyncClient
    producer: AsyncProducer
    store: ActStore
    executor: Executor
    publisher: OutboxPublisher
    tasks: list[asyncio.Task[None]]

    @classmethod
    async def start(
        cls, settings: ActSettings, connection: ConnectionSettings, codecs: Codecs, deadletter_topic: str
    ) -> ActRuntime:
        pool = await create_pool(
            connection.postgres_dsn.get_secret_value(), min_size=2, max_size=settings.concurrency + 4
        )
        await migrate(pool)
        client = httpx.AsyncClient(limits=httpx.Limits(max_connections=settings.concurrency * 2))
        producer = AsyncProducer(connection.kafka_bootstrap, client_id=SERVICE)
        store = ActStore(pool)
        publisher = OutboxPublisher(store, producer, settings.publish_batch, service=SERVICE)
        connectors = default_connectors(client)
        metrics.start_at_zero(metrics.ACT_ACTIONS, SERVICE, connectors, metrics.ACTION_STATUSES)
        metrics.start_at_zero(metrics.ACT_RETRIES, SERVICE, connectors)
        metrics.start_at_zero(
            metrics.DEAD_LETTERS, SERVICE, [settings.input_topic], (ACTION_FAILED, COMPENSATION_FAILED)
        )
        executor = Executor(
            store,
            ConnectorConfigs(pool, settings.config_cache_s),
            connectors,
            Reports(codecs, settings.output_topic, deadletter_topic, SERVICE),
            settings,
            on_recorded=publisher.wake,
            service=SERVICE,
        )
        tasks = [asyncio.create_task(executor.run()), asyncio.create_task(publisher.run())]
        return cls(pool, client, producer, store, executor, publisher, tasks)

    async def close(self, drain_s: float) -> None:
        await self.executor.stop(drain_s)
        try:
            await self.publisher.stop()
        finally:
            for task in self.tasks:
                task.cancel()
            await asyncio.gather(*self.tasks, return_exceptions=True)
            unsent = await asyncio.to_thread(self.producer.close)
            if unsent:
                log.warning("%s: %d outbox record(s) unacknowledged at exit; they stay in the outbox", SERVICE, unsent)
            await self.client.aclose()
            await self.pool.close()


def run_act(
    settings: ActSettings | None = None,
    connection: ConnectionSettings | None = None,
    loop_settings: LoopSettings | None = None,
) -> None:
    """Take decisions and perform their actions until SIGTERM."""
    settings = settings or ActSettings()
    connection = connection or ConnectionSettings()
    loop_settings = loop_settings or LoopSettings()
    carries = {
        settings.input_topic: DECISIONS_TOPIC,
        settings.output_topic: EXECUTED_TOPIC,
        loop_settings.deadletter_topic: DEADLETTER_TOPIC,
    }
    serve_metrics(settings.metrics_port)
    background = BackgroundLoop("act-runtime").start()
    runtime = background.run(
        ActRuntime.start(
            settings,
            connection,
            Codecs(connection.schema_registry_url, carries=carries),
            loop_settings.deadletter_topic,
        )
    )
    try:
        codecs = Codecs(connection.schema_registry_url, carries=carries)
        intake = ActIntake(background, runtime.store, runtime.executor, codecs, settings.output_topic, SERVICE)
        loop = ConsumerLoop(
            SERVICE, settings.group_id, [settings.input_topic], intake, connection, loop_settings, codecs
        )
        loop.run()
    finally:
        try:
            background.run(runtime.close(settings.drain_s))
        except Exception:
            log.exception("%s: unclean shutdown", SERVICE)
        background.stop()
