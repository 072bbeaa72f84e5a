"""Decoding a consumed record's value with its topic's schema, or refusing it with the reason."""

from __future__ import annotations

from confluent_kafka.error import SerializationError

from aios.kafka.deadletter import ErrorKind
from aios.kafka.errors import RecordRefused
from aios.kafka.records import Value
from aios.kafka.serde import Codecs


def decode_value(codecs: Codecs, topic: str, data: bytes | None) -> Value:
    """The decoded value; `RecordRefused` when the bytes are not a registered record of `topic`.

    A registry that cannot be reached is not the record's fault: its error passes through.
    """
    try:
        if not data:
            raise SerializationError("empty value (tombstone or null)")
        return codecs.decode(topic, data)
    except (SerializationError, ValueError, TypeError, EOFError, KeyError) as exc:
        raise RecordRefused(ErrorKind.UNDECODABLE, f"undecodable: {exc}") from exc
