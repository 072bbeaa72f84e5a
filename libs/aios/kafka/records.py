"""What a handler receives and returns: decoded records with their Kafka coordinates."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aios.kafka.tracefield import trace_field
from aios.schemas.records import TraceContext

Value = dict[str, Any]


@dataclass(frozen=True)
class InputRecord:
    """One consumed record, decoded with its topic's schema."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: Value
    headers: list[tuple[str, bytes | None]]
    trace: Mapping[str, str]
    """Trace context of this service's span for the record: give it to what the record causes."""
    schema_id: int | None = None
    """Registry id of the writer's schema (Confluent wire format bytes 1-4)."""
    timestamp_ms: int | None = None
    """The Kafka record's timestamp (create or log-append time), milliseconds since the epoch."""

    def trace_field(self) -> TraceContext:
        """The `trace` field of an output value caused by this record."""
        return trace_field(self.trace)

    def output(self, topic: str, value: Value, key: bytes | str | None = None) -> OutputRecord:
        """An output caused by this record: same key unless given, trace context passed on."""
        return OutputRecord(topic=topic, value=value, key=self.key if key is None else key, trace=self.trace)


@dataclass(frozen=True)
class OutputRecord:
    """A record a handler wants produced; the loop encodes it and produces it before committing."""

    topic: str
    value: Value
    key: bytes | str | None = None
    trace: Mapping[str, str] = field(default_factory=dict)
    headers: list[tuple[str, bytes]] = field(default_factory=list)
