"""The decide service as a Faust app.

Two agents. `intake` reads `aios.events.enriched` and `aios.review.completed` as raw bytes,
dead-letters what does not decode, and forwards the rest, unchanged, to the internal
`<app id>-by-tenant` topic keyed by tenant: from there on each tenant's events and verdicts are
handled in order by one worker, next to that tenant's windowed state and pending reviews.
`decide` applies the tenant's policy (`Decider`) and sends the decision or review request.

Delivery is at-least-once: Faust produces what an agent sends for a record (and the tables'
changelog writes) before committing that record's offset. A crash in between re-handles the
record; its outputs carry the same derived ids, so downstream sees a harmless duplicate.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import faust
from confluent_kafka import Message
from confluent_kafka.admin import AdminClient
from confluent_kafka.error import SerializationError
from confluent_kafka.schema_registry.error import SchemaRegistryError

from aios.decide.codec import AvroCodec
from aios.decide.decider import Decider, Output
from aios.decide.errors import UnknownReview
from aios.decide.gaps import OffsetGaps, read_skipped
from aios.decide.policies import PolicyCache
from aios.decide.settings import DecideSettings
from aios.decide.stalls import StallWatch
from aios.decide.state import CHANGELOG_CONFIGS, FaustStreamStats
from aios.kafka.deadletter import ErrorKind, dead_letter_value, record_bytes
from aios.kafka.errors import TransientError
from aios.kafka.topics import schema_bindings
from aios.observability import metrics
from aios.observability.tracing import carrier_to_headers, headers_to_carrier, span_from
from aios.policy.stream import Windows
from aios.schemas.serde import Codecs
from aios.settings import ConnectionSettings

log = logging.getLogger(__name__)

SERVICE = "decide"
SOURCE_HEADER = "aios-source"
"""Where a by-tenant record was first read: JSON {topic, partition, offset}."""


@dataclass(frozen=True)
class Record:
    """One input record as the handlers need it, whether Faust delivered it or decide read it itself."""

    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, Any]]
    timestamp: float
    """Seconds since the epoch (the record's Kafka timestamp)."""

    @classmethod
    def of_faust(cls, message: Any) -> Record:
        return cls(message.key, message.value, _header_list(message.headers), message.timestamp)

    @classmethod
    def of_kafka(cls, message: Message) -> Record:
        return cls(message.key(), message.value(), _header_list(message.headers()), message.timestamp()[1] / 1000)


Work = Callable[[Record, dict[str, Any], dict[str, Any]], Awaitable[None]]

TRANSIENT = (TransientError, SchemaRegistryError, OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError)
"""A dependency is down: the record is fine, so it is retried, never dead-lettered."""


def broker_url(bootstrap: str) -> str:
    return ";".join(f"kafka://{host.strip()}" for host in bootstrap.split(",") if host.strip())


def create_app(settings: DecideSettings | None = None, connection: ConnectionSettings | None = None) -> faust.App:
    settings = settings or DecideSettings()
    connection = connection or ConnectionSettings()
    # Topics may be renamed (tests' private topics): say which catalogue schema each carries.
    codecs = Codecs(connection.schema_registry_url, carries=schema_bindings(settings))
    app = faust.App(
        settings.app_id,
        broker=broker_url(connection.kafka_bootstrap),
        store="memory://",
        datadir=str(settings.data_dir / settings.app_id),
        autodiscover=False,
        web_enabled=False,
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        broker_commit_interval=settings.commit_interval_s,
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=min(3.0, settings.session_timeout_s / 3),
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
    )
    raw: dict[str, Any] = {"key_type": bytes, "value_type": bytes, "key_serializer": "raw", "value_serializer": "raw"}
    inputs = app.topic(settings.enriched_topic, settings.completed_topic, **raw)
    by_tenant = app.topic(
        f"{settings.app_id}-by-tenant",
        internal=True,
        partitions=settings.partitions,
        replicas=settings.replication_factor,
        **raw,
    )

    def avro_topic(name: str) -> faust.TopicT:
        return app.topic(name, key_serializer="raw", value_serializer=AvroCodec(codecs.for_topic(name)))

    outputs = {
        "decision": avro_topic(settings.decisions_topic),
        "review": avro_topic(settings.review_requested_topic),
    }
    deadletters = avro_topic(settings.deadletter_topic)

    policies = PolicyCache(connection.postgres_dsn.get_secret_value(), settings.policy_poll_interval_s)
    windows = Windows(share_step_s=settings.share_window_step_s)
    pending: Any = app.Table("pending-reviews", partitions=settings.partitions, extra_topic_configs=CHANGELOG_CONFIGS)
    decider = Decider(
        policies,
        FaustStreamStats(app, windows, settings.partitions),
        pending,
        no_policy_sla_s=settings.no_policy_sla_s,
        service=SERVICE,
    )

    def sent(topic: str) -> Callable[[Any], None]:
        def on_sent(_future: Any) -> None:
            metrics.RECORDS_OUT.labels(SERVICE, topic).inc()

        return on_sent

    async def dead_letter(
        record: Record, kind: ErrorKind, reason: str, decoded: dict[str, Any] | None, origin: dict[str, Any]
    ) -> None:
        message = _as_message(record, origin)
        carrier = headers_to_carrier(record.headers)
        trace = {"traceparent": carrier.get("traceparent", ""), "tracestate": carrier.get("tracestate")}
        value = dead_letter_value(
            message, service=SERVICE, kind=kind, reason=reason, attempts=1, trace=trace, decoded=decoded
        )
        log.warning("%s: dead-lettering %s[%s]@%s: %s", SERVICE, *origin.values(), reason[:300])
        metrics.DEAD_LETTERS.labels(SERVICE, origin["topic"], kind.value).inc()
        await deadletters.send(key=record.key, value=value, headers=carrier_to_headers(carrier))

    async def attempt(record: Record, origin: dict[str, Any], work: Work) -> None:
        """Run `work` for one record: transient failures wait and retry, others retry then dead-letter.

        `work` puts the decoded value under "value" in the dict it is given, for the dead letter.
        """
        failures, backoff = 0, 0.1
        context: dict[str, Any] = {"value": None}
        while True:
            try:
                await work(record, origin, context)
                return
            except UnknownReview as exc:
                await dead_letter(record, ErrorKind.HANDLER_FAILED, str(exc), context["value"], origin)
                return
            except TRANSIENT:
                log.warning("%s: dependency unavailable; retrying %s", SERVICE, origin, exc_info=True)
            except Exception as exc:
                failures += 1
                if failures > settings.handler_retries:
                    reason = f"handler failed after {failures} attempt(s): {type(exc).__name__}: {exc}"
                    await dead_letter(record, ErrorKind.HANDLER_FAILED, reason, context["value"], origin)
                    return
                log.warning("%s: failed on %s; retrying", SERVICE, origin, exc_info=True)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    async def route(record: Record, origin: dict[str, Any], _context: dict[str, Any]) -> None:
        """Forward a decodable input record to its tenant's partition of the by-tenant topic."""
        size, limit = record_bytes(_as_message(record, origin)), settings.max_record_bytes
        if size > limit:
            reason = f"too large: {size} bytes, above the limit of {limit} (AIOS_DECIDE_MAX_RECORD_BYTES)"
            await dead_letter(record, ErrorKind.TOO_LARGE, reason, None, origin)
            return
        try:
            value = codecs.decode(origin["topic"], record.value or b"")
        except SerializationError as exc:
            await dead_letter(record, ErrorKind.UNDECODABLE, f"undecodable: {exc}", None, origin)
            return
        headers = [h for h in record.headers if h[0] != SOURCE_HEADER]
        headers.append((SOURCE_HEADER, json.dumps(origin).encode()))
        await by_tenant.send(key=str(value["tenant_id"]).encode(), value=record.value, headers=headers)

    async def handle(record: Record, origin: dict[str, Any], context: dict[str, Any]) -> None:
        """Decide a by-tenant record: an event or a review verdict."""
        value = context["value"] = codecs.decode(origin["topic"], record.value or b"")
        metrics.observe_record_times(
            SERVICE, origin["topic"], value.get("occurred_at"), int(record.timestamp * 1000), time.time()
        )
        # Producers that set no trace headers still carry the context in the value's `trace` field.
        carrier_in = headers_to_carrier(record.headers) or {
            key: str(value["trace"][key]) for key in ("traceparent", "tracestate") if value["trace"].get(key)
        }
        with span_from(SERVICE, f"{SERVICE} process", carrier_in) as carrier:
            trace = {"traceparent": carrier.get("traceparent", ""), "tracestate": carrier.get("tracestate")}
        now = datetime.now(UTC)
        output: Output | None
        if origin["topic"] == settings.completed_topic:
            output = await decider.on_completion(value, trace, now)
        else:
            output = await decider.on_event(value, record.timestamp, trace, now)
        if output is not None:
            topic = outputs[output.kind]
            await topic.send(
                key=output.key,
                value=output.value,
                headers=carrier_to_headers(carrier),
                callback=sent(topic.get_topic_name()),
            )

    @app.task
    async def follow_policies() -> None:
        await policies.follow()

    watch = StallWatch(settings.stall_after_s)
    watched = {settings.enriched_topic, settings.completed_topic, by_tenant.get_topic_name()}

    @app.timer(settings.stall_check_s)
    async def resume_stalled_partitions() -> None:
        consumer = app.consumer
        mine = [tp for tp in consumer.assignment() if tp.topic in watched]
        if not mine:
            return
        # Ask the broker: the consumer's own high watermark stops moving with the fetches it stopped.
        ends = await consumer.highwaters(*mine)
        for tp in mine:
            if watch.stalled(tp, await consumer.position(tp), ends.get(tp), time.monotonic()):
                log.warning("decide: %s[%d] stopped being fetched with records waiting; resuming it", *tp)
                metrics.DECIDE_PARTITION_STALLS.labels(SERVICE, tp.topic).inc()
                consumer.on_buffer_drop(tp)
                consumer.resume_partitions([tp])

    gaps = OffsetGaps()

    @app.on_partitions_revoked.connect
    def forget_offsets(_sender: Any, /, *_args: Any, signal: Any, **_kwargs: Any) -> None:
        gaps.forget()

    async def skipped_before(message: Any) -> list[tuple[Record, int]]:
        """The records Faust skipped on this message's partition, with their offsets, read straight from Kafka
        (`aios.decide.gaps`)."""
        skipped_from = gaps.observe(message.tp, message.offset)
        if skipped_from is None:
            return []
        log.warning(
            "decide: offsets %d..%d of %s[%d] never reached the agent; reading them from Kafka",
            skipped_from,
            message.offset - 1,
            *message.tp,
        )
        found = await asyncio.to_thread(
            read_skipped, connection.kafka_bootstrap, message.topic, message.partition, skipped_from, message.offset
        )
        metrics.DECIDE_SKIPPED_RECORDS.labels(SERVICE, message.topic).inc(len(found))
        return [(Record.of_kafka(m), m.offset() or 0) for m in found]

    async def take_in(record: Record, topic: str, partition: int, offset: int) -> None:
        metrics.RECORDS_IN.labels(SERVICE, topic).inc()
        await attempt(record, {"topic": topic, "partition": partition, "offset": offset}, route)

    @app.agent(inputs)
    async def intake(stream: faust.StreamT) -> None:
        async for event in stream.events():
            message = event.message
            for record, offset in await skipped_before(message):
                await take_in(record, message.topic, message.partition, offset)
            await take_in(Record.of_faust(message), message.topic, message.partition, message.offset)

    async def decide_one(record: Record) -> None:
        origin = json.loads(dict(record.headers).get(SOURCE_HEADER) or b"{}")
        await policies.wait_ready()
        await attempt(record, origin, handle)

    @app.agent(by_tenant)
    async def decide(stream: faust.StreamT) -> None:
        async for event in stream.events():
            for record, _offset in await skipped_before(event.message):
                await decide_one(record)
            await decide_one(Record.of_faust(event.message))

    return app


def delete_internal_topics(bootstrap: str, app_id: str) -> None:
    """Remove the topics Faust created for `app_id` (by-tenant, changelogs, leader): for runs on scratch topics."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    mine = [name for name in admin.list_topics(timeout=30).topics if name.startswith(f"{app_id}-")]
    if mine:
        for future in admin.delete_topics(mine, operation_timeout=30).values():
            future.result(timeout=30)


def _as_message(record: Record, origin: dict[str, Any]) -> Message:
    """The record as confluent-kafka's Message, where it was first read (by-tenant records say so in a header)."""
    return Message(
        topic=origin["topic"],
        partition=origin["partition"],
        offset=origin["offset"],
        key=record.key,
        value=record.value,
        headers=record.headers,
    )


def _header_list(headers: Any) -> list[tuple[str, Any]]:
    """Faust gives headers as a list of pairs or a mapping; the rest of AIOS uses pairs."""
    items = headers.items() if isinstance(headers, dict) else (headers or [])
    return [(str(key), value or b"") for key, value in items]
