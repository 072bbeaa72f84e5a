"""Drains the outbox to Kafka: records are deleted only after the broker acknowledged them.

A crash after the acknowledgement and before the delete publishes a record twice; consumers
already expect duplicates (the audit trail and every reader key on action ids).
"""

from __future__ import annotations

import asyncio

from aios.act.store import ActStore, OutboxRow
from aios.kafka.async_producer import AsyncProducer
from aios.observability import metrics
from aios.runtime.background import WakeableTask


class OutboxPublisher(WakeableTask):
    """Wake it when a result was recorded; it also polls for records an earlier attempt left behind."""

    def __init__(
        self, store: ActStore, producer: AsyncProducer, batch: int, *, poll_s: float = 1.0, service: str = "act"
    ) -> None:
        super().__init__(poll_s, f"{service} outbox publisher")
        self.store = store
        self.producer = producer
        self.batch = batch
        self.service = service

    async def step(self) -> None:
        await self.drain()

    async def drain(self) -> int:
        """Publish until the outbox is empty; how many records went out."""
        published = 0
        while count := await self.store.publish(self.batch, self._send):
            published += count
        return published

    async def stop(self) -> None:
        self.stopping = True
        self.wake()
        await self.drain()

    async def _send(self, rows: list[OutboxRow]) -> None:
        acks = [
            self.producer.send(
                row.topic, row.value, key=row.key, headers=[(k, v.encode()) for k, v in row.headers.items()]
            )
            for row in rows
        ]
        await asyncio.gather(*acks)
        for row in rows:
            metrics.RECORDS_OUT.labels(self.service, row.topic).inc()
