"""Dead-lettering a record: its dead letter (`aios.kafka.deadletter`), logged and counted, ready to produce.

The consumer loop produces it with the batch's outputs, decide's agents send it through Faust;
both make it here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Message

from aios.kafka.deadletter import ErrorKind, dead_letter_record
from aios.kafka.tracefield import trace_field
from aios.observability import metrics
from aios.observability.tracing import carrier_to_headers
from aios.schemas.records import DeadLetter

log = logging.getLogger(__name__)


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
