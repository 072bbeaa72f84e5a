"""Accepting one event: quota, validation, idempotency, produce and wait for the broker's ack.

Transport-neutral (the HTTP routes and webhooks both call it). The rule it keeps: a caller is
told "accepted" only for an event that all in-sync replicas have acknowledged.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic import ValidationError

from aios.ingest.errors import (
    REDIS_UNAVAILABLE,
    BrokerUnavailable,
    IdempotencyConflict,
    InvalidEvent,
    QuotaExceeded,
)
from aios.ingest.idempotency import Claim, ClaimState, IdempotencyKeys, request_fingerprint
from aios.ingest.models import EventIn
from aios.ingest.quotas import TenantQuotas
from aios.ingest.status import EventStatusStore
from aios.kafka.async_producer import AsyncProducer
from aios.kafka.errors import DeliveryError
from aios.kafka.serde import Codecs
from aios.kafka.tracefield import trace_field
from aios.observability import metrics
from aios.observability.tracing import carrier_to_headers, new_trace_carrier
from aios.schemas.records import EventReceived, TraceContext

log = logging.getLogger(__name__)


class AvroRecord(Protocol):
    """A generated record type (`aios.schemas.records`)."""

    def to_avro(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Submission:
    tenant_id: str
    body: bytes
    source: str
    """`api` or `webhook:<name>`."""
    route: str
    idempotency_key: str | None = None


class EventAcceptor:
    def __init__(
        self,
        producer: AsyncProducer,
        codecs: Codecs,
        quotas: TenantQuotas,
        idempotency: IdempotencyKeys,
        status: EventStatusStore,
        *,
        ack_timeout_s: float,
        topic: str,
    ) -> None:
        self.producer = producer
        self.codecs = codecs
        self.quotas = quotas
        self.idempotency = idempotency
        self.status = status
        self.ack_timeout_s = ack_timeout_s
        self.topic = topic

    async def accept(self, submission: Submission) -> str:
        """The event id of the accepted (acked) event; raises IngestRefused otherwise."""
        await self.take_quota(submission.tenant_id)
        event = parse_event(submission.body)

        def received(event_id: str, received_at: datetime, trace: TraceContext) -> EventReceived:
            return EventReceived(
                event_id=event_id,
                tenant_id=submission.tenant_id,
                occurred_at=event.occurred_at or received_at,
                type=event.type,
                text=event.text,
                attributes=event.attributes,
                received_at=received_at,
                source=submission.source,
                source_ref=event.source_ref,
                idempotency_key=submission.idempotency_key,
                trace=trace,
            )

        return await self.deliver(submission, self.topic, event.type, received, event.occurred_at)

    async def take_quota(self, tenant_id: str) -> None:
        quota = await self.quotas.take(tenant_id)
        if not quota.allowed:
            raise QuotaExceeded(
                "the tenant's event quota is spent; retry later", {"Retry-After": str(quota.retry_after_s)}
            )

    async def deliver(
        self,
        submission: Submission,
        topic: str,
        event_type: str,
        record: Callable[[str, datetime, TraceContext], AvroRecord],
        occurred_at: datetime | None = None,
    ) -> str:
        """Idempotency, then `record(event_id, received_at, trace)` produced to `topic` and acked; its event id."""
        event_id = str(uuid.uuid4())
        key = submission.idempotency_key
        fingerprint = request_fingerprint(submission.route, submission.body)
        claim: Claim | None = None
        if key is not None:
            claim = await self.idempotency.claim(submission.tenant_id, key, fingerprint, event_id)
            if claim.state is ClaimState.DONE:
                return claim.event_id
            if claim.state is ClaimState.CONFLICT:
                raise IdempotencyConflict("this Idempotency-Key was already used for a different request")
            if claim.state is ClaimState.PENDING:
                raise BrokerUnavailable("a request with this Idempotency-Key is in progress", {"Retry-After": "1"})
            event_id = claim.event_id  # a stale claim taken over keeps its event id

        received_at = datetime.now(UTC)
        carrier = new_trace_carrier("ingest", "ingest accept")
        value = record(event_id, received_at, trace_field(carrier)).to_avro()
        ack = self.producer.send(
            topic,
            self.codecs.encode(topic, value),
            key=f"{submission.tenant_id}:{event_id}",
            headers=carrier_to_headers(carrier),
        )
        try:
            await asyncio.wait_for(asyncio.shield(ack), self.ack_timeout_s)
        except (TimeoutError, DeliveryError) as exc:
            if key is not None and claim is not None:
                self._settle_late(ack, submission, key, fingerprint, claim)
            log.warning("event %s not acknowledged: %s", event_id, exc or "timeout")
            raise BrokerUnavailable("Kafka did not acknowledge the event in time; retry", {"Retry-After": "1"}) from exc
        metrics.observe_record_times("ingest", topic, occurred_at or received_at, None, time.time())
        try:
            if key is not None:
                await self.idempotency.complete(submission.tenant_id, key, fingerprint, event_id)
            await self.status.record_received(event_id, submission.tenant_id, event_type, received_at)
        except REDIS_UNAVAILABLE as exc:
            # The event is in Kafka, so it is accepted; a retry of its key takes the stale claim over.
            log.warning("event %s accepted, but Redis could not record it: %s", event_id, exc)
        return event_id

    def _settle_late(
        self, ack: asyncio.Future[Any], submission: Submission, key: str, fingerprint: str, claim: Claim
    ) -> None:
        """After a 503, the record may still be acked: then a retry must get this event, not a copy."""

        async def settle(done: asyncio.Future[Any]) -> None:
            try:
                if done.exception() is None:
                    await self.idempotency.complete(submission.tenant_id, key, fingerprint, claim.event_id)
                else:
                    await self.idempotency.release(submission.tenant_id, key, claim)
            except REDIS_UNAVAILABLE as exc:
                log.warning("idempotency key of event %s not settled: %s", claim.event_id, exc)

        if ack.done():
            asyncio.get_running_loop().create_task(settle(ack))
        else:
            ack.add_done_callback(lambda done: asyncio.get_running_loop().create_task(settle(done)))


def parse_event(body: bytes) -> EventIn:
    try:
        return EventIn.model_validate_json(body)
    except ValidationError as exc:
        raise InvalidEvent(exc.errors()) from None
