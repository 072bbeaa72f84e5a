"""The review outbox table, as the shared outbox publisher sees it (`aios.outbox.OutboxStore`).

A verdict is committed to PostgreSQL first (with its outbox row, the `aios.review.completed`
value as JSON), then produced: if Kafka is down, the row waits and is retried until the broker
acknowledges it; only then is it marked published. A row the broker refuses for good is marked
dead-lettered instead. A crash between the ack and the mark produces the record again; decide
recognises the same verdict and repeats the same decision.
"""

from __future__ import annotations

import json

import asyncpg

from aios.kafka.serde import Codecs
from aios.outbox.publisher import OutboxRow, Send
from aios.schemas.errors import RecordEncodingError


class ReviewOutbox:
    def __init__(self, pool: asyncpg.Pool, codecs: Codecs, topic: str) -> None:
        self._pool = pool
        self.codecs = codecs
        self.topic = topic

    async def publish(self, limit: int, send: Send) -> int:
        """Hand the oldest unsettled verdicts to `send`, then mark those it published or dead-lettered."""
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT id, record FROM review_outbox WHERE published_at IS NULL AND dead_lettered_at IS NULL"
                " ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
                limit,
            )
            if not rows:
                return 0
            settled = await send([self._row(row["id"], row["record"]) for row in rows])
            await conn.execute(
                "UPDATE review_outbox SET published_at = now() WHERE id = ANY($1::bigint[])", settled.sent
            )
            await conn.execute(
                "UPDATE review_outbox SET dead_lettered_at = now(), dead_letter_reason = d.reason"
                " FROM unnest($1::bigint[], $2::text[]) AS d (id, reason) WHERE review_outbox.id = d.id",
                list(settled.dead),
                list(settled.dead.values()),
            )
        return len(settled)

    async def pending(self) -> int:
        return int(
            await self._pool.fetchval(
                "SELECT count(*) FROM review_outbox WHERE published_at IS NULL AND dead_lettered_at IS NULL"
            )
        )

    def _row(self, row_id: int, stored: str) -> OutboxRow:
        record = json.loads(stored)
        key = f"{record['tenant_id']}:{record['event_id']}"
        trace = {name: value for name, value in record["trace"].items() if value}
        try:
            return OutboxRow(self.topic, key, self.codecs.encode(self.topic, record), trace, row_id)
        except RecordEncodingError as exc:
            return OutboxRow(self.topic, key, stored.encode(), trace, row_id, unencodable=str(exc))
