"""What decide's agents do with one record: `take_in` forwards an input record to its tenant's
partition of the by-tenant topic, `decide` decides a by-tenant record.

Both retry and dead-letter the way the consumer loop does, with the same parts: the size limit
(`aios.kafka.oversize`), decoding (`aios.kafka.decoding`), retry with backoff (`aios.kafka.retry`),
dead letters (`aios.kafka.deadletter`) and the trace field (`aios.kafka.tracefield`). Unlike
the loop, a record is retried alone (Faust hands the agents one record at a time), and a
dependency that is down is waited for without end (the loop gives up after a while and its
restart reads the batch again).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import faust
from confluent_kafka.schema_registry.error import SchemaRegistryError

from aios.decide.decider import Decider, Output
from aios.decide.errors import UnknownReview
from aios.decide.policies import PolicyCache
from aios.decide.records import Origin, Record
from aios.decide.settings import DecideSettings
from aios.kafka import retry
from aios.kafka.deadletter import ErrorKind, dead_letter, handler_failed
from aios.kafka.decoding import decode_value
from aios.kafka.errors import RecordRefused, TransientError
from aios.kafka.oversize import check_size
from aios.kafka.records import Value
from aios.kafka.serde import Codecs
from aios.kafka.topics import DECISIONS, REVIEW_COMPLETED
from aios.kafka.tracefield import record_carrier, trace_field
from aios.keys.errors import SignatureError
from aios.keys.signing import RecordSigner, RecordVerifier
from aios.observability import metrics
from aios.observability.tracing import carrier_to_headers, headers_to_carrier, span_from
from aios.schemas.records import EventEnriched, ReviewCompleted

SERVICE = "decide"

TRANSIENT = (TransientError, SchemaRegistryError, OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError)
"""A dependency is down: the record is fine, so it is retried, never dead-lettered."""

FIRST_BACKOFF_S = 0.1


@dataclass
class Progress:
    """How far the work on a record got: its decoded value, once decoded, goes into its dead letter."""

    value: Value | None = None


Work = Callable[[Record, Origin, Progress], Awaitable[None]]


@dataclass(frozen=True)
class Sinks:
    """The Faust topics decide sends to."""

    by_tenant: faust.TopicT
    outputs: Mapping[str, faust.TopicT]
    """By `Output.kind`: decisions and review requests."""
    deadletters: faust.TopicT


class Handlers:
    def __init__(
        self, settings: DecideSettings, codecs: Codecs, decider: Decider, policies: PolicyCache, sinks: Sinks
    ) -> None:
        self.settings = settings
        self.codecs = codecs
        self.decider = decider
        self.policies = policies
        self.sinks = sinks
        self.decisions = RecordSigner("decide", DECISIONS.name)
        self.verdicts = RecordVerifier("review", REVIEW_COMPLETED.name)
        self.retry = retry.RetryPolicy(
            attempts=1 + settings.handler_retries,
            first_backoff_s=FIRST_BACKOFF_S,
            transient=TRANSIENT,
            never=(UnknownReview, SignatureError),
        )

    async def take_in(self, record: Record, origin: Origin) -> None:
        """An input record, read at `origin`: forwarded by tenant, or dead-lettered."""
        metrics.RECORDS_IN.labels(SERVICE, origin.topic).inc()
        await self._attempt(record, origin, self._route)

    async def decide(self, record: Record) -> None:
        """A by-tenant record: decided once the policies are loaded, or dead-lettered."""
        await self.policies.wait_ready()
        await self._attempt(record, record.origin(), self._handle)

    async def _attempt(self, record: Record, origin: Origin, work: Work) -> None:
        """Run `work` for one record as `self.retry` says; a record it gives up on is dead-lettered."""
        progress = Progress()
        retrying = self.retry.start(SERVICE)
        try:
            await retry.call_async(retrying, lambda: work(record, origin, progress))
        except (UnknownReview, SignatureError) as exc:
            await self._dead_letter(record, origin, ErrorKind.HANDLER_FAILED, str(exc), progress.value, 1)
        except Exception as exc:
            reason = handler_failed(retrying.failures, exc)
            await self._dead_letter(record, origin, ErrorKind.HANDLER_FAILED, reason, progress.value, retrying.failures)

    async def _route(self, record: Record, origin: Origin, _progress: Progress) -> None:
        """Forward a decodable input record to its tenant's partition of the by-tenant topic."""
        try:
            check_size(origin.message(record), self.settings.max_record_bytes, "AIOS_DECIDE_MAX_RECORD_BYTES")
            value = decode_value(self.codecs, origin.topic, record.value)
        except RecordRefused as refused:
            await self._dead_letter(record, origin, refused.kind, refused.reason, None, 1)
            return
        key = str(value["tenant_id"]).encode()
        await self.sinks.by_tenant.send(key=key, value=record.value, headers=record.forwarded(origin))

    async def _handle(self, record: Record, origin: Origin, progress: Progress) -> None:
        """Decide a by-tenant record: an event or a review verdict."""
        value = progress.value = decode_value(self.codecs, origin.topic, record.value)
        timestamp_ms = int(record.timestamp * 1000)
        metrics.observe_record_times(SERVICE, origin.topic, value.get("occurred_at"), timestamp_ms, time.time())
        with span_from(SERVICE, f"{SERVICE} process", record_carrier(record.headers, value)) as carrier:
            trace = trace_field(carrier)
        now = datetime.now(UTC)
        output: Output | None
        if origin.topic == self.settings.completed_topic:
            self.verdicts.verify(value)
            output = await self.decider.on_completion(ReviewCompleted.from_avro(value), trace, now)
        else:
            output = await self.decider.on_event(EventEnriched.from_avro(value), record.timestamp, trace, now)
        if output is not None:
            await self._send(output, carrier)

    async def _send(self, output: Output, carrier: Mapping[str, str]) -> None:
        topic = self.sinks.outputs[output.kind]
        name = topic.get_topic_name()

        def on_sent(_future: Any) -> None:
            metrics.RECORDS_OUT.labels(SERVICE, name).inc()

        value = output.record.to_avro()
        if output.kind == "decision":
            value = self.decisions.signed(value)
        await topic.send(key=output.key, value=value, headers=carrier_to_headers(carrier), callback=on_sent)

    async def _dead_letter(
        self, record: Record, origin: Origin, kind: ErrorKind, reason: str, decoded: Value | None, attempts: int
    ) -> None:
        letter = dead_letter(
            origin.message(record),
            service=SERVICE,
            kind=kind,
            reason=reason,
            attempts=attempts,
            carrier=headers_to_carrier(record.headers),
            decoded=decoded,
        )
        await self.sinks.deadletters.send(key=letter.key, value=letter.value.to_avro(), headers=letter.headers)
