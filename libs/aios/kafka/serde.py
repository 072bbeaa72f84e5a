"""Avro values in the Confluent wire format (magic byte, schema id, Avro body) for every topic.

The bytes are exactly what confluent-kafka's Avro serializers write, so any Confluent client reads
what AIOS writes.
Values are encoded with the project's schema for the topic, looked up (never auto-registered:
`aios stack up` and deployments register schemas, services only use them) and decoded with the
writer's schema resolved to the project's schema, so older records still read after evolution.
"""

from __future__ import annotations

import io
import json
import struct
from collections.abc import Mapping
from typing import Any

from confluent_kafka.error import SerializationError
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError
from fastavro import parse_schema, schemaless_reader, schemaless_writer
from fastavro.read import SchemaResolutionError

from aios.kafka.clients import registry_config
from aios.kafka.subjects import schema_for
from aios.schemas.errors import RecordEncodingError

Value = dict[str, Any]
MAGIC_BYTE = 0


class TopicCodec:
    """Encoder and decoder for one topic's values.

    The registry is asked once per schema (its id for encoding, each writer's schema for
    decoding; the client caches both); the Avro bodies are then written and read by fastavro
    directly, which is several times faster per record than confluent-kafka's (de)serializer
    objects and yields exactly the same bytes.
    """

    def __init__(self, client: SchemaRegistryClient, topic: str, text: str) -> None:
        self.topic = topic
        self._client = client
        self._text = text
        self._reader = parse_schema(json.loads(text))
        self._header: bytes | None = None
        self._writers: dict[int, Any] = {}

    def encode(self, value: Value) -> bytes:
        body = io.BytesIO()
        body.write(self._encode_header())
        try:
            schemaless_writer(body, self._reader, value)
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            raise RecordEncodingError(f"value for {self.topic} does not fit its schema: {exc}") from exc
        return body.getvalue()

    def _encode_header(self) -> bytes:
        """Magic byte and the id the registry holds for this topic's schema (looked up, never registered)."""
        if self._header is None:
            registered = self._client.lookup_schema(f"{self.topic}-value", Schema(self._text, "AVRO"))
            self._header = struct.pack(">bI", MAGIC_BYTE, registered.schema_id)
        return self._header

    def decode(self, data: bytes) -> Value:
        """Raises SerializationError for bytes that are not a registered Avro record of this topic's type.

        A registry that cannot answer is not the record's fault: that error passes through, so the
        caller retries or stops instead of dead-lettering a valid record.
        """
        if len(data) < 5 or data[0] != MAGIC_BYTE:
            raise SerializationError(f"not in the Confluent wire format (magic byte, schema id): {data[:5]!r}")
        schema_id = int.from_bytes(data[1:5], "big")
        writer = self._writer(schema_id)
        try:
            value = schemaless_reader(io.BytesIO(data[5:]), writer, self._reader)
        except SchemaResolutionError as exc:
            # fastavro's message holds both schemas in full: name them instead.
            written, wanted = _name(writer), _name(self._reader)
            raise SerializationError(
                f"not a {self.topic} record: written as {written} (schema id {schema_id}), which does not resolve "
                f"to {wanted}"
            ) from exc
        except Exception as exc:
            # fastavro raises many types (schema mismatch, truncated or garbled bodies) for bad bytes.
            raise SerializationError(f"not a {self.topic} record: {type(exc).__name__}: {exc}") from exc
        if not isinstance(value, dict):
            raise SerializationError(f"expected an Avro record on {self.topic}, got {type(value).__name__}")
        return value

    def _writer(self, schema_id: int) -> Any:
        writer = self._writers.get(schema_id)
        if writer is None:
            try:
                schema = self._client.get_schema(schema_id)
            except SchemaRegistryError as exc:
                if exc.http_status_code != 404:
                    raise
                raise SerializationError(f"unknown schema id {schema_id}: {exc.error_message}") from exc
            try:
                writer = self._writers[schema_id] = parse_schema(json.loads(schema.schema_str or ""))
            except Exception as exc:
                raise SerializationError(f"schema id {schema_id} is not an Avro schema: {exc}") from exc
        return writer


def _name(schema: Any) -> str:
    return str(schema.get("name", schema.get("type"))) if isinstance(schema, dict) else str(schema)


class Codecs:
    """One codec per topic over a shared registry client (which caches schemas and ids).

    `carries` names topics outside the catalogue and the catalogue topic whose schema they
    carry (a team's filtered copy of a stream, a test's private topic).
    """

    def __init__(self, registry_url: str, carries: Mapping[str, str] | None = None) -> None:
        self.client = SchemaRegistryClient(registry_config(registry_url))
        self.carries = dict(carries or {})
        self._codecs: dict[str, TopicCodec] = {}

    def for_topic(self, topic: str) -> TopicCodec:
        codec = self._codecs.get(topic)
        if codec is None:
            text = schema_for(self.carries.get(topic, topic)).text
            codec = self._codecs[topic] = TopicCodec(self.client, topic, text)
        return codec

    def encode(self, topic: str, value: Value) -> bytes:
        return self.for_topic(topic).encode(value)

    def decode(self, topic: str, data: bytes) -> Value:
        return self.for_topic(topic).decode(data)
