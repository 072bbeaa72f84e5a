"""Avro values in the Confluent wire format (magic byte, schema id, Avro body) for every topic.

confluent-kafka's own serializers do the work, so any Confluent client reads what AIOS writes.
Values are encoded with the project's schema for the topic, looked up (never auto-registered:
`aios stack up` and deployments register schemas, services only use them) and decoded with the
writer's schema resolved to the project's schema, so older records still read after evolution.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from confluent_kafka.error import SerializationError
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.serialization import MessageField, SerializationContext

from aios.schemas.catalog import schema_for
from aios.schemas.errors import RecordEncodingError

Value = dict[str, Any]


class TopicCodec:
    """Encoder and decoder for one topic's values."""

    def __init__(self, client: SchemaRegistryClient, topic: str, text: str) -> None:
        self.topic = topic
        self._context = SerializationContext(topic, MessageField.VALUE)
        self._serializer = AvroSerializer(
            client, text, conf={"auto.register.schemas": False, "use.latest.version": False}
        )
        self._deserializer = AvroDeserializer(client, text)

    def encode(self, value: Value) -> bytes:
        try:
            encoded = self._serializer(value, self._context)
        except (SerializationError, ValueError, TypeError) as exc:
            raise RecordEncodingError(f"value for {self.topic} does not fit its schema: {exc}") from exc
        assert encoded is not None
        return encoded

    def decode(self, data: bytes) -> Value:
        """Raises SerializationError for bytes that are not a registered Avro record of this topic's type.

        A registry that cannot answer is not the record's fault: that error passes through, so the
        caller retries or stops instead of dead-lettering a valid record.
        """
        try:
            value = self._deserializer(data, self._context)
        except SerializationError:
            raise
        except SchemaRegistryError as exc:
            if exc.http_status_code != 404:
                raise
            raise SerializationError(f"unknown schema id: {exc.error_message}") from exc
        except Exception as exc:
            # fastavro raises many types (schema mismatch, truncated or garbled bodies) for bad bytes.
            raise SerializationError(f"not a {self.topic} record: {type(exc).__name__}: {exc}") from exc
        if not isinstance(value, dict):
            raise SerializationError(f"expected an Avro record on {self.topic}, got {type(value).__name__}")
        return value


class Codecs:
    """One codec per topic over a shared registry client (which caches schemas and ids).

    `carries` names topics outside the catalogue and the catalogue topic whose schema they
    carry (a team's filtered copy of a stream, a test's private topic).
    """

    def __init__(self, registry_url: str, carries: Mapping[str, str] | None = None) -> None:
        self.client = SchemaRegistryClient({"url": registry_url})
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
