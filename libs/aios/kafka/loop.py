"""The consume → handle → produce → commit loop every AIOS service runs.

Delivery is at-least-once: input offsets are committed only after every output of the batch
(and every dead letter) is acknowledged by all in-sync replicas. A crash anywhere before the
commit means the batch is read again; handlers make their effects idempotent by `event_id`.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import cast

from confluent_kafka import TIMESTAMP_NOT_AVAILABLE, Consumer, KafkaException, Message, TopicPartition
from opentelemetry.trace import Span
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from aios.kafka import retry
from aios.kafka.clients import kafka_config
from aios.kafka.deadletter import (
    MAX_RECORD_BYTES,
    DeadLetterRecord,
    ErrorKind,
    consumer_metrics_at_zero,
    dead_letter,
    handler_failed,
)
from aios.kafka.decoding import decode_value
from aios.kafka.errors import RecordRefused
from aios.kafka.offsets import Coordinates, as_topic_partitions, next_offsets
from aios.kafka.oversize import check_size
from aios.kafka.producer import ReliableProducer
from aios.kafka.records import InputRecord, OutputRecord
from aios.kafka.serde import Codecs
from aios.kafka.topics import DEADLETTER, topic_field
from aios.kafka.tracefield import record_carrier
from aios.observability import metrics
from aios.observability.tracing import carrier_to_headers, fail_span, headers_to_carrier, start_span
from aios.schemas.errors import RecordEncodingError
from aios.settings import ConnectionSettings

log = logging.getLogger(__name__)

Handler = Callable[[list[InputRecord]], Iterable[OutputRecord]]


class LoopSettings(BaseSettings):
    """Batching, retry and group settings, read from `AIOS_LOOP_*` variables."""

    model_config = SettingsConfigDict(env_prefix="AIOS_LOOP_", extra="ignore", frozen=True)

    max_batch: int = Field(default=500, ge=1, description="Most records handed to the handler at once.")
    max_wait_ms: int = Field(default=200, ge=1, description="Longest wait to fill a batch.")
    handler_retries: int = Field(
        default=3,
        ge=0,
        description="Retries of a failing batch before its records are tried one by one.",
    )
    retry_backoff_ms: int = Field(default=100, ge=0, description="First backoff between retries; doubles.")
    transient_retry_s: float = Field(
        default=120.0,
        description="How long a TransientError is retried before the service gives up.",
    )
    session_timeout_ms: int = Field(default=10_000, description="Consumer group session timeout.")
    max_poll_interval_ms: int = Field(default=300_000, description="Longest time between polls.")
    statistics_interval_ms: int = Field(default=5_000, description="How often consumer lag is measured.")
    deadletter_topic: str = topic_field(DEADLETTER, "Where records no handler can process go.")
    max_record_bytes: int = Field(
        default=MAX_RECORD_BYTES,
        ge=1024,
        description="Larger records (key, value, headers) are dead-lettered unread, kept only as a hash.",
    )


@dataclass
class _Pending:
    """A decoded record waiting for its handler, with the message it came from and its open span."""

    message: Message
    record: InputRecord
    span: Span


@dataclass
class BatchResult:
    consumed: int
    produced: int
    dead_lettered: int


class ConsumerLoop:
    """Runs `handler` over batches from `topics` for consumer group `group_id`."""

    def __init__(
        self,
        service: str,
        group_id: str,
        topics: Sequence[str],
        handler: Handler,
        *,
        connection: ConnectionSettings | None = None,
        settings: LoopSettings | None = None,
        codecs: Codecs | None = None,
    ) -> None:
        self.service = service
        self.topics = list(topics)
        consumer_metrics_at_zero(service, self.topics)
        self.handler = handler
        self.connection = connection or ConnectionSettings()
        self.settings = settings or LoopSettings()
        self.codecs = codecs or Codecs(self.connection.schema_registry_url)
        self.producer = ReliableProducer(self.connection.kafka_bootstrap, client_id=service)
        self.consumer = Consumer(
            {
                **kafka_config(self.connection.kafka_bootstrap, self.connection),
                "group.id": group_id,
                "client.id": service,
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "auto.offset.reset": "earliest",
                "partition.assignment.strategy": "cooperative-sticky",
                "session.timeout.ms": self.settings.session_timeout_ms,
                "max.poll.interval.ms": self.settings.max_poll_interval_ms,
                "statistics.interval.ms": self.settings.statistics_interval_ms,
                "stats_cb": self._on_stats,
                "isolation.level": "read_committed",
            }
        )
        self.retry = retry.RetryPolicy(
            attempts=1 + self.settings.handler_retries,
            first_backoff_s=self.settings.retry_backoff_ms / 1000,
            transient_for_s=self.settings.transient_retry_s,
        )
        self._assigned: set[Coordinates] = set()
        self._uncommitted: dict[Coordinates, int] = {}
        self._stop = threading.Event()

    # -- lifecycle -------------------------------------------------------------------------

    def run(self) -> None:
        """Handle batches until `stop()` or SIGTERM/SIGINT; the batch in hand is finished first."""
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: self.stop())
        self.subscribe()
        try:
            while not self._stop.is_set():
                self.run_once()
        finally:
            self.close()

    def subscribe(self) -> None:
        """Join the group; `run_once` then handles batches (what `run` does until stopped)."""
        self.consumer.subscribe(
            self.topics, on_assign=self._on_assign, on_revoke=self._on_revoke, on_lost=self._on_lost
        )
        log.info("%s consuming %s", self.service, ", ".join(self.topics))

    def close(self) -> None:
        """Commit what was handled and leave the group."""
        self._commit_uncommitted(None)
        self.consumer.close()
        log.info("%s stopped", self.service)

    def stop(self) -> None:
        self._stop.set()

    # -- one batch -------------------------------------------------------------------------

    def run_once(self) -> BatchResult:
        gathering = time.perf_counter()
        messages = self.consumer.consume(self.settings.max_batch, self.settings.max_wait_ms / 1000)
        messages = [m for m in messages if self._usable(m)]
        if not messages:
            return BatchResult(0, 0, 0)
        metrics.BATCH_WAIT_SECONDS.labels(self.service).observe(time.perf_counter() - gathering)
        for message in messages:
            metrics.RECORDS_IN.labels(self.service, message.topic()).inc()
        metrics.BATCH_SIZE.labels(self.service).observe(len(messages))

        pending: list[_Pending] = []
        dead: list[DeadLetterRecord] = []
        for message in messages:
            decoded = self._decode(message)
            if isinstance(decoded, _Pending):
                pending.append(decoded)
            else:
                dead.append(decoded)

        started = time.perf_counter()
        outputs, failed = self._handle(pending)
        metrics.HANDLER_SECONDS.labels(self.service).observe(time.perf_counter() - started)
        dead.extend(failed)

        try:
            produced = self._produce(outputs, dead)
        finally:
            for item in pending:
                item.span.end()
        self._commit(messages)
        return BatchResult(len(messages), produced, len(dead))

    def _usable(self, message: Message) -> bool:
        error = message.error()
        if error is None:
            return (message.topic(), message.partition()) in self._assigned
        if error.fatal():
            raise KafkaException(error)
        log.warning("%s: consumer error: %s", self.service, error.str())
        return False

    def _decode(self, message: Message) -> _Pending | DeadLetterRecord:
        """A pending record, or the dead letter saying why it cannot be read."""
        data = message.value()
        topic = message.topic() or ""
        try:
            check_size(message, self.settings.max_record_bytes, "AIOS_LOOP_MAX_RECORD_BYTES")
            value = decode_value(self.codecs, topic, data)
        except RecordRefused as refused:
            return self._refuse(message, refused)
        span, trace = self._record_span(message, record_carrier(message.headers(), value))
        if value.get("event_id"):
            span.set_attribute("aios.event_id", str(value["event_id"]))
        timestamp_ms = _timestamp_ms(message)
        metrics.observe_record_times(self.service, topic, value.get("occurred_at"), timestamp_ms, time.time(), trace)
        record = InputRecord(
            topic=topic,
            partition=message.partition() or 0,
            offset=message.offset() or 0,
            key=message.key(),
            value=value,
            headers=cast(list[tuple[str, bytes | None]], message.headers() or []),  # a list at run time
            trace=trace,
            schema_id=int.from_bytes((data or b"")[1:5], "big"),
            timestamp_ms=timestamp_ms,
        )
        return _Pending(message, record, span)

    def _refuse(self, message: Message, refused: RecordRefused) -> DeadLetterRecord:
        """The dead letter of a record that is not read, under a span of its own that says why."""
        span, trace = self._record_span(message, headers_to_carrier(message.headers()))
        fail_span(span, refused.reason)
        span.end()
        return dead_letter(
            message, service=self.service, kind=refused.kind, reason=refused.reason, attempts=1, carrier=trace
        )

    def _record_span(self, message: Message, carrier: dict[str, str]) -> tuple[Span, dict[str, str]]:
        """This service's span for a record, under the record's trace (or a new trace), and its context.

        It stays open until the batch's outputs are acknowledged: its length is the record's time here.
        """
        return start_span(
            self.service,
            f"{self.service} process",
            carrier,
            attributes={
                "messaging.system": "kafka",
                "messaging.destination.name": message.topic() or "",
                "messaging.destination.partition.id": str(message.partition()),
                "messaging.kafka.offset": message.offset() or 0,
            },
        )

    def _handle(self, pending: list[_Pending]) -> tuple[list[OutputRecord], list[DeadLetterRecord]]:
        """Outputs of the batch; if it keeps failing, each record alone, dead-lettering the ones that fail."""
        if not pending:
            return [], []
        attempts = self.retry.attempts
        try:
            return self._call_with_retries([p.record for p in pending], attempts), []
        except Exception as exc:
            if len(pending) == 1:
                return [], [self._handler_dead_letter(pending[0], exc, attempts)]
            log.warning(
                "%s: batch of %d failed (%s); handling records one by one",
                self.service,
                len(pending),
                exc,
            )
        outputs: list[OutputRecord] = []
        dead: list[DeadLetterRecord] = []
        for item in pending:
            try:
                outputs.extend(self._call_with_retries([item.record], 1))
            except Exception as exc:
                dead.append(self._handler_dead_letter(item, exc, attempts + 1))
        return outputs, dead

    def _call_with_retries(self, records: list[InputRecord], attempts: int) -> list[OutputRecord]:
        """The handler's outputs; transient failures wait (until `transient_retry_s`, then end the service:
        the restart reads the batch again), others are tried `attempts` times (`aios.kafka.retry`)."""
        return retry.call(self.retry.start(self.service, attempts), lambda: list(self.handler(records)))

    def _handler_dead_letter(self, item: _Pending, exc: BaseException, attempts: int) -> DeadLetterRecord:
        reason = handler_failed(attempts, exc)
        fail_span(item.span, reason)
        return dead_letter(
            item.message,
            service=self.service,
            kind=ErrorKind.HANDLER_FAILED,
            reason=reason,
            attempts=attempts,
            carrier=item.record.trace,
            decoded=item.record.value,
        )

    # -- produce and commit ----------------------------------------------------------------

    def _produce(self, outputs: list[OutputRecord], dead: list[DeadLetterRecord]) -> int:
        for output in outputs:
            try:
                data = self.codecs.encode(output.topic, output.value)
            except RecordEncodingError as exc:
                # A handler bug, not bad input: fail loudly so no output is silently dropped.
                raise RecordEncodingError(f"{self.service} produced an invalid {output.topic} value: {exc}") from exc
            headers = carrier_to_headers(output.trace) + list(output.headers)
            self.producer.produce(output.topic, data, key=output.key, headers=headers)
        for letter in dead:
            data = self.codecs.encode(self.settings.deadletter_topic, letter.value.to_avro())
            self.producer.produce(self.settings.deadletter_topic, data, key=letter.key, headers=letter.headers)
        acknowledged = self.producer.flush()
        for topic, count in acknowledged.items():
            if topic != self.settings.deadletter_topic:
                metrics.RECORDS_OUT.labels(self.service, topic).inc(count)
        return len(outputs)

    def _commit(self, messages: list[Message]) -> None:
        offsets = next_offsets((m.topic() or "", m.partition() or 0, m.offset() or 0) for m in messages)
        self._uncommitted.update(offsets)
        self._commit_uncommitted(None)

    def _commit_uncommitted(self, only: set[Coordinates] | None) -> None:
        """Commit handled offsets (all, or those of `only`); done before partitions move away."""
        chosen = {c: o for c, o in self._uncommitted.items() if only is None or c in only}
        if not chosen:
            return
        try:
            self.consumer.commit(offsets=as_topic_partitions(chosen), asynchronous=False)
        except KafkaException as exc:
            # The group moved on (rebalance or fenced): the new owner re-reads from the last
            # commit, which is at-least-once, never loss.
            log.warning("%s: commit failed: %s", self.service, exc)
        for coordinates in chosen:
            self._uncommitted.pop(coordinates, None)

    # -- group callbacks -------------------------------------------------------------------

    def _on_assign(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._assigned.update((p.topic, p.partition) for p in partitions)
        log.info("%s assigned %s", self.service, _describe(partitions))

    def _on_revoke(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        revoked = {(p.topic, p.partition) for p in partitions}
        self._commit_uncommitted(revoked)
        self._assigned -= revoked
        log.info("%s revoked %s", self.service, _describe(partitions))

    def _on_lost(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        lost = {(p.topic, p.partition) for p in partitions}
        self._assigned -= lost
        for coordinates in lost:
            self._uncommitted.pop(coordinates, None)

    def _on_stats(self, stats_json: str) -> None:
        """librdkafka's statistics carry each partition's consumer lag; publish it as a gauge."""
        stats = json.loads(stats_json)
        for topic, topic_stats in stats.get("topics", {}).items():
            for partition, partition_stats in topic_stats.get("partitions", {}).items():
                lag = partition_stats.get("consumer_lag", -1)
                if partition != "-1" and lag >= 0:
                    metrics.CONSUMER_LAG.labels(self.service, topic, partition).set(lag)


def _timestamp_ms(message: Message) -> int | None:
    kind, value = message.timestamp()
    return value if kind != TIMESTAMP_NOT_AVAILABLE else None


def _describe(partitions: list[TopicPartition]) -> str:
    return ", ".join(f"{p.topic}[{p.partition}]" for p in partitions) or "nothing"
