"""Dead letters: the record (the reason, who failed, where the record came from and its original bytes), and
dead-lettering a record: its dead letter logged and counted, ready to produce.

`dead_letter_record` is the one builder of `aios.DeadLetter`: the consumer loop, decide, the outbox
publisher and act all make theirs with it. The consumer loop produces a dead letter with the batch's
outputs, decide's agents send it through Faust; both make it with `dead_letter`.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from confluent_kafka import Message

from aios.kafka.tracefield import trace_field
from aios.observability import metrics
from aios.observability.tracing import carrier_to_headers
from aios.schemas.records import DeadLetter, TraceContext

log = logging.getLogger(__name__)

MAX_RECORD_BYTES = 512 * 1024
"""Largest record (key, value and headers) a consumer handles: twice what one ingest request may carry.

Anything larger cannot have come from the pipeline; its outputs, or a dead letter holding a copy,
could pass Kafka's message limit (1 MB by default), and a record that cannot be passed on would
stop its consumer for good. Dead letters keep the original bytes only up to this size.
"""


class ErrorKind(StrEnum):
    UNDECODABLE = "undecodable"
    """Not a registered Avro record (wrong magic byte, unknown schema id, corrupt body)."""
    HANDLER_FAILED = "handler-failed"
    """The handler raised on the record alone after its retries."""
    OUTPUT_INVALID = "output-invalid"
    """The handler's output for the record did not fit the output topic's schema."""
    TOO_LARGE = "too-large"
    """Larger than the consumer's record limit (`MAX_RECORD_BYTES` by default)."""
    UNDELIVERABLE = "undeliverable"
    """An outbox record the broker refused for good (too large for its topic, invalid).

    It was never written: `original_topic` is where it was going, partition and offset are -1.
    """


def record_bytes(message: Message) -> int:
    """Size of a record as the limit counts it: key, value and headers."""
    headers = sum(len(key) + len(value or b"") for key, value in _headers(message))
    return len(message.key() or b"") + len(message.value() or b"") + headers


def _headers(message: Message) -> list[tuple[str, Any]]:
    headers = message.headers() or []
    return list(headers.items() if isinstance(headers, dict) else headers)


def dead_letter_record(
    message: Message,
    *,
    service: str,
    kind: str,
    reason: str,
    attempts: int,
    trace: TraceContext,
    decoded: Mapping[str, Any] | None = None,
    keep_bytes: int = MAX_RECORD_BYTES,
) -> DeadLetter:
    """The `aios.DeadLetter` record for `message`; ids come from the record when it could be read.

    `kind` is an `ErrorKind`, or a kind of the service's own (act's `action-failed`).

    The original key, value and headers are kept for a replay unless together they exceed
    `keep_bytes`: then the reason gives the value's size and SHA-256 instead.
    """
    original = message.value()
    known = decoded or _ids_from_key(message.key())
    event_id = known.get("event_id") or _fingerprint(original)
    kept = record_bytes(message) <= keep_bytes
    if not kept:
        size = len(original or b"")
        reason = f"{reason[:3800]} [original record not kept: value of {size} bytes, {_fingerprint(original)}]"
    return DeadLetter(
        event_id=str(event_id),
        tenant_id=str(known.get("tenant_id") or "unknown"),
        occurred_at=datetime.now(UTC),
        reason=reason[:4000],
        error_kind=str(kind),
        service=service,
        original_topic=message.topic() or "",
        original_partition=message.partition() or 0,
        original_offset=message.offset() or 0,
        original_key=message.key() if kept else None,
        original_value=original if kept else None,
        original_headers={key: value or b"" for key, value in _headers(message)} if kept else {},
        attempts=attempts,
        trace=trace,
    )


def _ids_from_key(key: bytes | None) -> dict[str, str]:
    """Tenant and event of a record whose value cannot be read, from its key `<tenant uuid>:<event id>`,
    so the dead letter (and the audit trail, and the event's status) stays with its tenant."""
    tenant, colon, event = (key or b"").decode("utf-8", "replace").partition(":")
    try:
        canonical = colon and str(uuid.UUID(tenant)) == tenant  # tenant ids are written as str(uuid4())
    except ValueError:
        canonical = False
    return {"tenant_id": tenant, "event_id": event[:128]} if canonical else {}


def _fingerprint(data: bytes | None) -> str:
    return "sha256:" + hashlib.sha256(data or b"").hexdigest()[:32]


@dataclass(frozen=True)
class DeadLetterRecord:
    """A dead letter to produce: the original record's key, the `aios.DeadLetter` record and trace headers."""

    key: bytes | None
    value: DeadLetter
    headers: list[tuple[str, bytes]]


def dead_letter(
    message: Message,
    *,
    service: str,
    kind: ErrorKind,
    reason: str,
    attempts: int,
    carrier: Mapping[str, str],
    decoded: Mapping[str, Any] | None = None,
) -> DeadLetterRecord:
    """The dead letter of `message` under the trace context in `carrier`; counted when made."""
    trace = trace_field(carrier)
    value = dead_letter_record(
        message, service=service, kind=kind, reason=reason, attempts=attempts, trace=trace, decoded=decoded
    )
    where = f"{message.topic()}[{message.partition()}]@{message.offset()}"
    log.warning("%s: dead-lettering %s: %s", service, where, reason[:300])
    metrics.DEAD_LETTERS.labels(service, message.topic() or "", kind.value).inc()
    headers = carrier_to_headers({key: text for key, text in trace.to_avro().items() if text})
    return DeadLetterRecord(message.key(), value, headers)


def handler_failed(attempts: int, exc: BaseException) -> str:
    """The reason of a record dead-lettered because its handler kept failing."""
    return f"handler failed after {attempts} attempt(s): {type(exc).__name__}: {exc}"


def consumer_metrics_at_zero(service: str, topics: Iterable[str]) -> None:
    """A consumer of `topics`: its dead letters by topic and kind, and its retries, exported at 0 from start-up."""
    metrics.start_at_zero(metrics.DEAD_LETTERS, service, topics, [kind.value for kind in ErrorKind])
    metrics.HANDLER_RETRIES.labels(service)
