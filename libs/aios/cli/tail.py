"""`aios tail`: print any topic's records as they arrive, values decoded through the schema registry."""

from __future__ import annotations

import base64
import json
import logging
import uuid
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, cast

import typer
from confluent_kafka import Consumer, Message
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.serialization import MessageField, SerializationContext

from aios.errors import AiosError
from aios.kafka.clients import kafka_config, registry_config
from aios.kafka.offsets import as_topic_partitions, next_offsets
from aios.kafka.subjects import subject_for
from aios.settings import ConnectionSettings

log = logging.getLogger(__name__)


class TailError(AiosError):
    """The topic cannot be tailed: no value schema registered for it, or the consumer failed fatally."""


def jsonable(value: Any) -> Any:
    """Avro-decoded data as JSON data: bytes as base64, dates and times as ISO-8601, decimals and UUIDs as text."""
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    return value


def text_or_base64(data: str | bytes | None) -> str | None:
    """Keys and header values as text when they are UTF-8 (AIOS writes ids and traceparents), else base64."""
    if data is None or isinstance(data, str):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return base64.b64encode(data).decode("ascii")


def record_json(message: Message, value: Any) -> dict[str, Any]:
    """One record as the JSON object `--json` prints; `value` is the decoded value."""
    # Consumed records carry headers as (name, value) pairs; the dict form exists only for producing.
    headers = cast(list[tuple[str, str | bytes | None]], message.headers() or [])
    return {
        "topic": message.topic(),
        "partition": message.partition(),
        "offset": message.offset(),
        "key": text_or_base64(message.key()),
        "headers": [[name, text_or_base64(data)] for name, data in headers],
        "value": jsonable(value),
    }


def human_line(record: dict[str, Any]) -> str:
    """`topic[partition]@offset key=… {value}` on one line."""
    key = f" key={record['key']}" if record["key"] is not None else ""
    value = json.dumps(record["value"], separators=(",", ":"), ensure_ascii=False)
    return f"{record['topic']}[{record['partition']}]@{record['offset']}{key} {value}"


def consumer_config(bootstrap: str, group: str | None, from_beginning: bool) -> dict[str, Any]:
    """Without a group, a throwaway one that never commits, so tailing leaves no trace in the cluster."""
    return {
        **kafka_config(bootstrap),
        "group.id": group or f"aios-tail-{uuid.uuid4().hex[:12]}",
        "auto.offset.reset": "earliest" if from_beginning else "latest",
        "enable.auto.commit": False,
    }


def require_subject(registry: SchemaRegistryClient, topic: str) -> None:
    try:
        registry.get_latest_version(subject_for(topic))
    except SchemaRegistryError as exc:
        if exc.http_status_code == 404:
            raise TailError(f"no value schema registered for {topic} (subject {subject_for(topic)})") from None
        raise TailError(f"schema registry: {exc}") from exc


def decoded(deserializer: AvroDeserializer, message: Message) -> dict[str, Any]:
    """The record as JSON; a value that does not decode is shown as base64 with the reason, not skipped.

    fastavro raises many types for bad bytes (a timestamp out of Python's range is an OverflowError or
    a ValueError, not a SerializationError): any of them is this record's fault, and tailing goes on.
    """
    try:
        value = deserializer(message.value(), SerializationContext(message.topic() or "", MessageField.VALUE))
    except Exception as exc:
        log.warning("%s[%s]@%s: undecodable: %r", message.topic(), message.partition(), message.offset(), exc)
        return {**record_json(message, message.value()), "error": f"undecodable: {exc!r}"}
    return record_json(message, value)


def tail(
    topic: str = typer.Argument(..., help="Any topic with a value schema registered under <topic>-value."),
    from_beginning: bool = typer.Option(False, "--from-beginning", help="Start at the oldest retained record."),
    group: str | None = typer.Option(None, "--group", help="Consumer group; its offsets are committed."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per record: topic, partition, offset, ..."),
    limit: int | None = typer.Option(None, "--max-records", min=1, help="Stop after this many records."),
) -> None:
    """Print a topic's records, one line each, decoded through the schema registry, until Ctrl-C."""
    connection = ConnectionSettings()
    registry = SchemaRegistryClient(registry_config(connection.schema_registry_url))
    require_subject(registry, topic)
    deserializer = AvroDeserializer(registry)
    consumer = Consumer(consumer_config(connection.kafka_bootstrap, group, from_beginning))
    consumer.subscribe([topic])
    printed: list[Message] = []
    count = 0
    try:
        while limit is None or count < limit:
            for message in consumer.consume(min(500, limit - count) if limit else 500, 1.0):
                error = message.error()
                if error is not None:
                    if error.fatal():
                        raise TailError(f"consumer failed: {error.str()}")
                    log.warning("%s: %s", topic, error.str())
                    continue
                record = decoded(deserializer, message)
                typer.echo(json.dumps(record, ensure_ascii=False) if as_json else human_line(record))
                printed.append(message)
                count += 1
            if group:
                commit(consumer, printed)
    except KeyboardInterrupt:
        pass
    finally:
        if group:
            commit(consumer, printed)
        consumer.close()


def commit(consumer: Consumer, messages: list[Message]) -> None:
    """Commit past the records printed so far, and no further; empties `messages`."""
    if messages:
        positions = [(m.topic() or "", m.partition() or 0, m.offset() or 0) for m in messages]
        consumer.commit(offsets=as_topic_partitions(next_offsets(positions)), asynchronous=False)
        messages.clear()
