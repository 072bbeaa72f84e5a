"""Publishes completed reviews from the outbox table to `aios.review.completed`.

A verdict is committed to PostgreSQL first (with its outbox row), then produced: if Kafka is
down, the row waits and is retried until the broker acknowledges it; only then is it marked
published. Rows are locked with SKIP LOCKED, so several review instances publish side by side.
A crash between the ack and the mark produces the record again; decide recognises the
same verdict and repeats the same decision.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

import asyncpg

from aios.kafka.async_producer import AsyncProducer
from aios.observability import metrics
from aios.observability.tracing import carrier_to_headers
from aios.schemas.serde import Codecs

log = logging.getLogger(__name__)


class OutboxPublisher:
    def __init__(
        self,
        pool: asyncpg.Pool,
        producer: AsyncProducer,
        codecs: Codecs,
        topic: str,
        *,
        ack_timeout_s: float = 10.0,
        batch: int = 100,
        service: str = "review",
    ) -> None:
        self.pool = pool
        self.producer = producer
        self.codecs = codecs
        self.topic = topic
        self.ack_timeout_s = ack_timeout_s
        self.batch = batch
        self.service = service
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """A verdict was just committed: publish now rather than at the next interval."""
        self._wake.set()

    async def publish_once(self) -> int:
        """Produce the oldest unpublished records, wait for every ack, mark them; returns how many."""
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT id, record FROM review_outbox WHERE published_at IS NULL ORDER BY id LIMIT $1"
                " FOR UPDATE SKIP LOCKED",
                self.batch,
            )
            if not rows:
                return 0
            sends = []
            for row in rows:
                record = json.loads(row["record"])
                trace = {k: v for k, v in record["trace"].items() if v}
                sends.append(
                    self.producer.send(
                        self.topic,
                        self.codecs.encode(self.topic, record),
                        key=f"{record['tenant_id']}:{record['event_id']}",
                        headers=carrier_to_headers(trace),
                    )
                )
            await asyncio.wait_for(asyncio.gather(*sends), self.ack_timeout_s)
            published = [row["id"] for row in rows]
            await conn.execute("UPDATE review_outbox SET published_at = now() WHERE id = ANY($1::bigint[])", published)
        metrics.RECORDS_OUT.labels(self.service, self.topic).inc(len(rows))
        return len(rows)

    async def pending(self) -> int:
        return int(await self.pool.fetchval("SELECT count(*) FROM review_outbox WHERE published_at IS NULL"))

    async def run(self, interval_s: float) -> None:
        """Publish until cancelled: at once when woken, else every `interval_s`; failures wait and retry."""
        while True:
            try:
                while await self.publish_once():
                    pass
                metrics.REVIEW_OUTBOX_PENDING.labels(self.service).set(await self.pending())
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("%s: cannot publish verdicts yet; they stay in the outbox", self.service, exc_info=True)
                metrics.REVIEW_OUTBOX_PENDING.labels(self.service).set(await _count_or_zero(self))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), interval_s)
            self._wake.clear()


async def _count_or_zero(publisher: OutboxPublisher) -> int:
    try:
        return await publisher.pending()
    except Exception:
        return 0
