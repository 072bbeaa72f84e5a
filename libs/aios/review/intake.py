"""Stores `aios.review.requested` records in PostgreSQL, on the shared consumer loop.

The loop runs in a thread of the review process with an event loop of its own for asyncpg:
the handler writes each batch in one transaction before the loop commits the offsets, and a
redelivered request (same review id) is left as stored.
"""

from __future__ import annotations

import asyncio
import logging
import threading

import asyncpg

from aios.db.errors import DatabaseUnavailableError
from aios.db.pool import create_pool
from aios.kafka.errors import TransientError
from aios.kafka.loop import ConsumerLoop, LoopSettings
from aios.kafka.records import InputRecord, OutputRecord
from aios.kafka.serde import Codecs
from aios.kafka.topics import schema_bindings
from aios.observability import metrics
from aios.review.settings import ReviewSettings
from aios.review.store import ReviewStore
from aios.schemas.records import ReviewRequested
from aios.settings import ConnectionSettings

log = logging.getLogger(__name__)


class ReviewIntake:
    def __init__(self, settings: ReviewSettings, connection: ConnectionSettings, service: str = "review") -> None:
        self.settings = settings
        self.connection = connection
        self.service = service
        self._loop = asyncio.new_event_loop()
        self._pool: asyncpg.Pool | None = None
        self._consumer: ConsumerLoop | None = None
        self._thread = threading.Thread(target=self._run, name="review-intake", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        """Finish the batch in hand, commit, leave the group."""
        if self._consumer is not None:
            self._consumer.stop()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        loop_settings = LoopSettings(deadletter_topic=self.settings.deadletter_topic)
        codecs = Codecs(self.connection.schema_registry_url, carries=schema_bindings(self.settings))
        self._consumer = ConsumerLoop(
            self.service,
            self.settings.group_id,
            [self.settings.requested_topic],
            self.handle,
            connection=self.connection,
            settings=loop_settings,
            codecs=codecs,
        )
        try:
            self._consumer.run()
        except Exception:
            log.exception("%s: review intake stopped", self.service)
        finally:
            if self._pool is not None:
                self._loop.run_until_complete(self._pool.close())
            self._loop.close()

    def handle(self, records: list[InputRecord]) -> list[OutputRecord]:
        try:
            requests = [ReviewRequested.from_avro(record.value) for record in records]
            stored = self._loop.run_until_complete(self._store(requests))
        except (OSError, DatabaseUnavailableError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError) as exc:
            self._pool = None
            raise TransientError(f"PostgreSQL unavailable: {exc}") from exc
        metrics.REVIEW_REQUESTS_STORED.labels(self.service).inc(stored)
        return []

    async def _store(self, requests: list[ReviewRequested]) -> int:
        if self._pool is None:
            self._pool = await create_pool(self.connection.postgres_dsn.get_secret_value(), max_size=2)
        return await ReviewStore(self._pool).store_requests(requests)
