"""The extract worker assembled: the object store, the budgeted reader, the document index and the consumer loop.

The index is PostgreSQL through asyncpg on the worker's background loop; the handler runs each
database step there and waits. A database or object store that cannot be reached is a
`TransientError`: the batch is retried, never dead-lettered.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from aios.db.migrations import migrate
from aios.db.pool import UNAVAILABLE_ERRORS, create_pool
from aios.extract.handler import ExtractHandler
from aios.extract.index import DocumentIndex
from aios.extract.reader import BudgetedReader
from aios.extract.settings import ExtractSettings
from aios.kafka.errors import TransientError
from aios.keys.documents import sealed_store
from aios.runtime.worker import Worker, WorkerSpec

SERVICE = "extract"
T = TypeVar("T")


def start_extract(worker: Worker[ExtractSettings]) -> ExtractHandler:
    settings = worker.settings
    background = worker.background
    pool = background.run(create_pool(worker.connection.postgres_dsn.get_secret_value(), min_size=1, max_size=2))
    worker.on_close(lambda: background.run(pool.close()))
    background.run(migrate(pool))
    reader = BudgetedReader(settings.time_budget_s, settings.memory_limit_mb)
    worker.on_close(reader.close)

    def run(work: Awaitable[T]) -> T:
        async def awaited() -> T:
            return await work

        try:
            return background.run(awaited())
        except UNAVAILABLE_ERRORS as exc:
            raise TransientError(f"document index unavailable: {exc!r}") from exc

    return ExtractHandler(settings, sealed_store(pool), reader, DocumentIndex(pool), run)


def extract_worker(settings: ExtractSettings) -> WorkerSpec[ExtractSettings]:
    """Read stored documents until SIGTERM (the batch in hand is finished and committed first)."""
    return WorkerSpec(SERVICE, settings, consume=start_extract)
