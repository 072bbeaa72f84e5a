"""The audit service assembled: the shared consumer loop over every topic, the auditor API and retention.

The consumer loop runs on the main thread (SIGTERM drains it). The PostgreSQL pool, the HTTP
server (uvicorn, which also serves /metrics) and the retention task share the worker's background loop.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import asyncpg
import uvicorn

from aios.audit.api import create_audit_app
from aios.audit.handler import AuditHandler
from aios.audit.settings import AuditSettings
from aios.audit.signed_heads import FileHeadLog, HeadLog, sign_heads
from aios.audit.store import AuditStore
from aios.db.migrations import migrate
from aios.db.pool import create_pool
from aios.observability import metrics
from aios.runtime.worker import Worker, WorkerSpec
from aios.settings import ConnectionSettings

log = logging.getLogger(__name__)

SERVICE = "audit"


@dataclass
class AuditRuntime:
    pool: asyncpg.Pool
    store: AuditStore
    server: uvicorn.Server | None
    tasks: list[asyncio.Task[None]]

    @classmethod
    async def start(cls, settings: AuditSettings, connection: ConnectionSettings) -> AuditRuntime:
        pool = await create_pool(connection.postgres_dsn.get_secret_value(), min_size=2, max_size=6)
        await migrate(pool)
        store = AuditStore(pool)
        tasks = [
            asyncio.create_task(_retention(store, settings)),
            asyncio.create_task(_sign_heads(store, FileHeadLog(settings.signed_heads_path), settings)),
        ]
        server = None
        if settings.port:
            config = uvicorn.Config(
                create_audit_app(pool, settings.auth_cache_s),
                host=settings.host,
                port=settings.port,
                log_level="warning",
                access_log=False,
            )
            server = uvicorn.Server(config)
            tasks.append(asyncio.create_task(server.serve()))
        return cls(pool, store, server, tasks)

    async def close(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
        for task in self.tasks[:2]:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.pool.close()


async def _retention(store: AuditStore, settings: AuditSettings) -> None:
    """Remove expired rows now and then; a broken chain is logged and its rows kept."""
    while True:
        try:
            for result in await store.prune(settings.retention_days):
                metrics.AUDIT_PRUNED_ROWS.labels(SERVICE).inc(result.removed)
                log.info("%s: removed %d rows of tenant %s", SERVICE, result.removed, result.tenant_id)
        except Exception:
            log.exception("%s: retention failed", SERVICE)
        await asyncio.sleep(settings.prune_interval_s)


async def _sign_heads(store: AuditStore, head_log: HeadLog, settings: AuditSettings) -> None:
    """Write the heads that moved, signed, outside the database now and then."""
    written: dict[str, tuple[int, str]] = {}
    while True:
        await asyncio.sleep(settings.sign_heads_interval_s)
        try:
            await sign_heads(store, head_log, written)
        except Exception:
            log.exception("%s: signing the chain heads failed", SERVICE)


def start_audit(worker: Worker[AuditSettings]) -> AuditHandler:
    """Open the trail, the auditor API and retention on the worker's background loop; the handler appends."""
    settings, background = worker.settings, worker.background
    runtime = background.run(AuditRuntime.start(settings, worker.connection))
    worker.on_close(lambda: background.run(runtime.close(), timeout_s=30))
    return AuditHandler(background, runtime.store, settings.topic_schemas(), SERVICE)


def audit_worker(settings: AuditSettings) -> WorkerSpec[AuditSettings]:
    """Record every record of the topics until SIGTERM."""
    return WorkerSpec(SERVICE, settings, consume=start_audit)
