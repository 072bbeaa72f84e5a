"""The records decide's agents handle, and where each was first read.

Faust delivers records to the agents; the gap guard reads skipped ones straight from Kafka
(`aios.decide.gaps`): both become one `Record`. A record forwarded to the by-tenant topic carries
where it was first read (its `Origin`) in a header, so its dead letter names the input record.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from aiokafka import ConsumerRecord
from confluent_kafka import Message

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
        return cls(message.key, message.value, header_list(message.headers), message.timestamp)

    @classmethod
    def of_aiokafka(cls, message: ConsumerRecord[bytes, bytes]) -> Record:
        return cls(message.key, message.value, header_list(list(message.headers)), message.timestamp / 1000)

    def origin(self) -> Origin:
        """Where this by-tenant record was first read (its `SOURCE_HEADER`)."""
        return Origin(**json.loads(dict(self.headers)[SOURCE_HEADER]))

    def forwarded(self, origin: Origin) -> list[tuple[str, Any]]:
        """This record's headers for the by-tenant topic: the ones it has, and where it was first read."""
        headers = [h for h in self.headers if h[0] != SOURCE_HEADER]
        headers.append((SOURCE_HEADER, json.dumps(asdict(origin)).encode()))
        return headers


@dataclass(frozen=True)
class Origin:
    """Where an input record was first read."""

    topic: str
    partition: int
    offset: int

    def message(self, record: Record) -> Message:
        """`record` as confluent-kafka's Message, at this place (what dead letters and the size limit read)."""
        return Message(
            topic=self.topic,
            partition=self.partition,
            offset=self.offset,
            key=record.key,
            value=record.value,
            headers=record.headers,
        )


def header_list(headers: Any) -> list[tuple[str, Any]]:
    """Faust gives headers as a list of pairs or a mapping; the rest of AIOS uses pairs."""
    items = headers.items() if isinstance(headers, dict) else (headers or [])
    return [(str(key), value or b"") for key, value in items]
