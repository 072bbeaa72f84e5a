"""Dead-letter values: the reason, who failed, where the record came from and its original bytes."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from confluent_kafka import Message

DEADLETTER_TOPIC = "aios.deadletter"


class ErrorKind(StrEnum):
    UNDECODABLE = "undecodable"
    """Not a registered Avro record (wrong magic byte, unknown schema id, corrupt body)."""
    HANDLER_FAILED = "handler-failed"
    """The handler raised on the record alone after its retries."""
    OUTPUT_INVALID = "output-invalid"
    """The handler's output for the record did not fit the output topic's schema."""


def dead_letter_value(
    message: Message,
    *,
    service: str,
    kind: ErrorKind,
    reason: str,
    attempts: int,
    trace: dict[str, str | None],
    decoded: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The `aios.DeadLetter` value for a record; ids come from the record when it could be read."""
    original = message.value()
    event_id = (decoded or {}).get("event_id") or _fingerprint(original)
    return {
        "event_id": str(event_id),
        "tenant_id": str((decoded or {}).get("tenant_id") or "unknown"),
        "occurred_at": datetime.now(UTC),
        "reason": reason[:4000],
        "error_kind": kind.value,
        "service": service,
        "original_topic": message.topic() or "",
        "original_partition": message.partition() or 0,
        "original_offset": message.offset() or 0,
        "original_key": message.key(),
        "original_value": original,
        "original_headers": {key: value or b"" for key, value in message.headers() or []},
        "attempts": attempts,
        "trace": trace,
    }


def _fingerprint(data: bytes | None) -> str:
    return "sha256:" + hashlib.sha256(data or b"").hexdigest()[:32]
