"""Drains the outbox to Kafka: records are deleted only after the broker acknowledged them.

A crash after the acknowledgement and before the delete publishes a record twice; consumers
already expect duplicates (the audit trail and every reader key on action ids).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aios.act.store import ActStore, OutboxRow
from aios.kafka.async_producer import AsyncProducer
from aios.observability import metrics

log = logging.getLogger(__name__)


class OutboxPublisher:
    def __init__(
        self, store: ActStore, producer: AsyncProducer, batch: int, *, poll_s: float = 1.0, service: str = "act"
    ) -> None:
        self.store = store
        self.producer = producer
        self.batch = batch
        self.poll_s = poll_s
        self.service = service
        self._wake = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                await self.drain()
            except Exception:
                log.exception("%s: cannot publish the outbox; trying again", self.service)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_s)

    async def drain(self) -> int:
        """Publish until the outbox is empty; how many records went out."""
        published = 0
        while count := await self.store.publish(self.batch, self._send):
            published += count
        return published

    async def stop(self) -> None:
        self._stopping = True
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
