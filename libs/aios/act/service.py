"""The act service assembled: inbox intake on the shared consumer loop, executor and outbox publisher beside it.

The consumer loop runs on the main thread (SIGTERM drains it); the asyncio side (PostgreSQL
pool, HTTP client, executor, publisher) runs on the worker's background loop. On the way out the
loop commits its last batch, the executor lets actions under way finish for `drain_s`, and the
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
from aios.act.reports import Reports
from aios.act.settings import ActSettings
from aios.act.store import ActStore
from aios.connectors.builtin import default_connectors
from aios.connectors.config import ConnectorConfigs
from aios.connectors.payment_ledger import PaymentLedger
from aios.db.migrations import migrate
from aios.db.pool import create_pool
from aios.kafka.async_producer import AsyncProducer
from aios.kafka.serde import Codecs
from aios.observability import metrics
from aios.outbox.publisher import OutboxPublisher
from aios.runtime.worker import Worker, WorkerSpec
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
        publisher = OutboxPublisher(
            store, producer, codecs, deadletter_topic, service=SERVICE, batch=settings.publish_batch
        )
        connectors = default_connectors(client, PaymentLedger(pool))
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


def start_act(worker: Worker[ActSettings]) -> ActIntake:
    """Open the act runtime on the worker's background loop (closed after the loop's last commit) and its intake."""
    settings, background = worker.settings, worker.background
    runtime = background.run(
        ActRuntime.start(settings, worker.connection, worker.codecs(), worker.loop_settings.deadletter_topic)
    )
    worker.on_close(lambda: background.run(runtime.close(settings.drain_s)))
    return ActIntake(background, runtime.store, runtime.executor, worker.codecs(), settings.output_topic, SERVICE)


def act_worker(settings: ActSettings) -> WorkerSpec[ActSettings]:
    """Take decisions and perform their actions until SIGTERM."""
    return WorkerSpec(SERVICE, settings, consume=start_act)
