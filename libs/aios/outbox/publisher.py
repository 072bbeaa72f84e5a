"""One outbox publisher: records written to a table in the transaction that caused them, produced later.

A service records a result and the records announcing it in one transaction; the publisher hands
them to Kafka. The table is the store's business (act deletes what was sent, review marks it),
given to the publisher as an `OutboxStore`. Each row is settled on its own terms:

- acknowledged by the broker: sent, the store drops or marks it;
- refused for good (the record itself is too large for its topic, or invalid; a value that does
  not fit its schema): dead-lettered to `aios.deadletter` with the reason, and marked so that it
  is never tried again: one bad record never holds back the others;
- anything else (broker down, timeout, unknown topic): it stays and is tried at the next wake-up.

A crash after the acknowledgement and before the store's update publishes a record twice;
consumers already expect duplicates (every reader keys on event, action or review ids).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Protocol

from confluent_kafka import Message

from aios.kafka.async_producer import AsyncProducer
from aios.kafka.deadletter import ErrorKind, dead_letter_record
from aios.kafka.errors import DeliveryError
from aios.kafka.serde import Codecs
from aios.kafka.tracefield import trace_field
from aios.observability import metrics
from aios.runtime.background import WakeableTask

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutboxRecord:
    """A record to produce: the value is already encoded for its topic."""

    topic: str
    key: str
    """`tenant:event`, as every record about an event is keyed; dead letters take their ids from it."""
    value: bytes
    headers: Mapping[str, str]


@dataclass(frozen=True)
class OutboxRow(OutboxRecord):
    """A record as its outbox table holds it."""

    id: int
    unencodable: str | None = None
    """Why the stored value does not fit its topic's schema; then `value` is the row as stored."""


@dataclass(frozen=True)
class Settled:
    """What became of the rows handed to `send`; rows in neither are tried again later."""

    sent: list[int] = field(default_factory=list)
    dead: dict[int, str] = field(default_factory=dict)
    """Row id to the reason it was dead-lettered."""

    def __len__(self) -> int:
        return len(self.sent) + len(self.dead)


Send = Callable[[list[OutboxRow]], Awaitable[Settled]]


@dataclass
class Delivery:
    """The broker's answers for records sent together, by row id."""

    acked: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)
    """Refused for good, with the broker's reason."""
    retried: list[str] = field(default_factory=list)
    """Why the others failed (broker down, timeout...): they are tried again later."""

    def merge(self, other: Delivery) -> None:
        self.acked += other.acked
        self.refused |= other.refused
        self.retried += other.retried


class OutboxStore(Protocol):
    """An outbox table as the publisher sees it."""

    async def publish(self, limit: int, send: Send) -> int:
        """Hand the oldest unsettled rows (at most `limit`) to `send`, then record what it settled; how many.

        The rows stay locked meanwhile, so instances never publish the same row at once.
        """
        ...

    async def pending(self) -> int:
        """Rows neither sent nor dead-lettered."""
        ...


class OutboxPublisher(WakeableTask):
    """Wake it when records were written; it also polls for rows an earlier attempt left behind."""

    def __init__(
        self,
        store: OutboxStore,
        producer: AsyncProducer,
        codecs: Codecs,
        deadletter_topic: str,
        *,
        service: str,
        batch: int = 100,
        poll_s: float = 1.0,
        ack_timeout_s: float | None = None,
        report_pending: Callable[[int], None] | None = None,
    ) -> None:
        """`ack_timeout_s`: how long a batch waits for acks (None: the producer's own delivery timeout);
        `report_pending` is given the count of unsettled rows after each round (a gauge)."""
        super().__init__(poll_s, f"{service} outbox publisher")
        self.store = store
        self.producer = producer
        self.codecs = codecs
        self.deadletter_topic = deadletter_topic
        self.service = service
        self.batch = batch
        self.ack_timeout_s = ack_timeout_s
        self.report_pending = report_pending

    async def step(self) -> None:
        try:
            await self.drain()
        finally:
            if self.report_pending is not None:
                self.report_pending(await self._pending_or_zero())

    async def drain(self) -> int:
        """Publish until no row is settled any more; how many rows were sent or dead-lettered."""
        settled = 0
        while count := await self.store.publish(self.batch, self._send):
            settled += count
        return settled

    async def stop(self) -> None:
        self.stopping = True
        self.wake()
        await self.drain()

    async def _send(self, rows: list[OutboxRow]) -> Settled:
        delivery = await self._deliver({row.id: row for row in rows if not row.unencodable})
        refused = delivery.refused | {row.id: row.unencodable for row in rows if row.unencodable}
        letters = {row.id: self._letter(row, refused[row.id]) for row in rows if row.id in refused}
        dead_letters = await self._deliver(letters)
        for problem in [*dead_letters.refused.values(), *dead_letters.retried]:
            log.error("%s: cannot dead-letter a refused outbox record, it stays: %s", self.service, problem)
        if delivery.retried:
            log.warning(
                "%s: %d outbox record(s) not acknowledged yet (%s); they stay in the outbox",
                self.service,
                len(delivery.retried),
                delivery.retried[0],
            )
        for row in rows:
            if row.id in delivery.acked:
                metrics.RECORDS_OUT.labels(self.service, row.topic).inc()
            elif row.id in dead_letters.acked:
                log.error(
                    "%s: outbox record %s for %s dead-lettered: %s", self.service, row.key, row.topic, refused[row.id]
                )
                metrics.DEAD_LETTERS.labels(self.service, row.topic, _kind(row).value).inc()
        return Settled(delivery.acked, {row_id: refused[row_id] for row_id in dead_letters.acked})

    async def _deliver(self, records: Mapping[int, OutboxRecord]) -> Delivery:
        """Produce the records (by row id) and wait for the acks; a record refused in company is retried alone.

        A broker refuses a whole batch for one record larger than its topic allows, so a refusal
        counts only for a record sent on its own.
        """
        delivery = await self._acks(records)
        if len(records) > 1:
            for row_id in list(delivery.refused):
                alone = await self._acks({row_id: records[row_id]})
                del delivery.refused[row_id]
                delivery.merge(alone)
        return delivery

    async def _acks(self, records: Mapping[int, OutboxRecord]) -> Delivery:
        sends = {row_id: self._produce(record) for row_id, record in records.items()}
        if sends:
            await asyncio.wait(sends.values(), timeout=self.ack_timeout_s)
        delivery = Delivery()
        for row_id, future in sends.items():
            if not future.done():
                future.cancel()  # a late report finds it settled and is dropped; the row is sent again
                delivery.retried.append(f"{records[row_id].topic}: no acknowledgement in {self.ack_timeout_s} s")
            elif (error := future.exception()) is None:
                delivery.acked.append(row_id)
            elif isinstance(error, DeliveryError) and error.permanent:
                delivery.refused[row_id] = str(error)
            else:
                delivery.retried.append(str(error))
        return delivery

    def _produce(self, record: OutboxRecord) -> asyncio.Future[Message]:
        headers = [(key, value.encode()) for key, value in record.headers.items()]
        return self.producer.send(record.topic, record.value, key=record.key, headers=headers)

    def _letter(self, row: OutboxRow, reason: str) -> OutboxRecord:
        """The `aios.deadletter` record for a refused row: its bytes (within the usual limit) for a replay."""
        tenant_id, _, event_id = row.key.partition(":")
        never_written = Message(
            topic=row.topic,
            key=row.key.encode(),
            value=row.value,
            headers=[(key, value.encode()) for key, value in row.headers.items()],
        )
        letter = dead_letter_record(
            never_written,
            service=self.service,
            kind=_kind(row),
            reason=reason,
            attempts=1,
            trace=trace_field(row.headers),
            decoded={"tenant_id": tenant_id, "event_id": event_id},
        )
        letter = replace(letter, original_partition=-1, original_offset=-1)  # never written: no coordinates
        encoded = self.codecs.encode(self.deadletter_topic, letter.to_avro())
        return OutboxRecord(self.deadletter_topic, row.key, encoded, row.headers)

    async def _pending_or_zero(self) -> int:
        try:
            return await self.store.pending()
        except Exception:
            return 0


def _kind(row: OutboxRow) -> ErrorKind:
    return ErrorKind.OUTPUT_INVALID if row.unencodable else ErrorKind.UNDELIVERABLE
