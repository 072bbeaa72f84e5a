"""Which Avro schema each topic carries, and registering them under `<topic>-value`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

from aios.kafka.topics import load_catalogue
from aios.paths import schemas_dir
from aios.schemas.errors import SchemaRegistrationError


def subject_for(topic: str) -> str:
    """Confluent's TopicNameStrategy: the subject of a topic's values."""
    return f"{topic}-value"


@dataclass(frozen=True)
class TopicSchema:
    topic: str
    path: Path

    @property
    def subject(self) -> str:
        return subject_for(self.topic)

    @property
    def text(self) -> str:
        return self.path.read_text()

    @property
    def record_name(self) -> str:
        parsed = json.loads(self.text)
        return f"{parsed['namespace']}.{parsed['name']}"


@cache
def topic_schemas() -> dict[str, TopicSchema]:
    """Every declared topic with the schema file named by its `value_schema`."""
    return {
        spec.name: TopicSchema(spec.name, schemas_dir() / f"{spec.value_schema}.avsc")
        for spec in load_catalogue().topics
    }


def schema_for(topic: str) -> TopicSchema:
    try:
        return topic_schemas()[topic]
    except KeyError:
        raise SchemaRegistrationError(f"topic {topic!r} is not declared in infra/topics.yaml") from None


def register_all(registry: dict[str, str]) -> dict[str, int]:
    """Register every topic's schema (a no-op for versions already there); subject → schema id.

    The registry refuses a schema that breaks its subject's compatibility level; that surfaces
    here as an error naming the subject rather than as undecodable records later.
    """
    client = SchemaRegistryClient(registry)
    ids: dict[str, int] = {}
    for schema in topic_schemas().values():
        try:
            ids[schema.subject] = client.register_schema(schema.subject, Schema(schema.text, "AVRO"))
        except SchemaRegistryError as exc:
            raise SchemaRegistrationError(
                f"registering {schema.path.name} under {schema.subject} failed: {exc}"
            ) from exc
    return ids
