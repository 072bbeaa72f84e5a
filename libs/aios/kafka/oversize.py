"""The record size limit: a record larger than its consumer's limit is refused before it is read."""

from __future__ import annotations

from confluent_kafka import Message

from aios.kafka.deadletter import ErrorKind, record_bytes
from aios.kafka.errors import RecordRefused


def check_size(message: Message, limit: int, setting: str) -> None:
    """Raise `RecordRefused` when the record (key, value, headers) exceeds `limit`; `setting` names the knob."""
    size = record_bytes(message)
    if size > limit:
        raise RecordRefused(ErrorKind.TOO_LARGE, f"too large: {size} bytes, above the limit of {limit} ({setting})")
