"""Private topics that carry a catalogue topic's schema: for tests, benchmarks and one-off copies of a stream.

Each gets a fresh name and its subject holds the catalogue topic's schema, so `Codecs` built with
`carries=scratch.carries` encode and decode it; `close()` deletes topics and subjects.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from confluent_kafka.admin import AdminClient, NewTopic
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

from aios.kafka.clients import kafka_config, registry_config
from aios.kafka.subjects import schema_for, subject_for


class ScratchTopics:
    def __init__(self, bootstrap: str, registry_url: str, prefix: str = "test") -> None:
        self.admin = AdminClient(kafka_config(bootstrap))
        self.registry = SchemaRegistryClient(registry_config(registry_url))
        self.prefix = prefix
        self.made: list[str] = []
        self.carries: dict[str, str] = {}
        """Each topic made → the catalogue topic whose schema it carries."""

    def make(
        self, carries: str, partitions: int = 3, replication: int = 1, config: Mapping[str, str] | None = None
    ) -> str:
        """A new topic named `<prefix>.<carries without aios.>.<random>` with `carries`' schema (and topic `config`)."""
        name = f"{self.prefix}.{carries.removeprefix('aios.')}.{uuid.uuid4().hex[:10]}"
        new = NewTopic(name, partitions, replication, config=dict(config or {}))
        for future in self.admin.create_topics([new], operation_timeout=30).values():
            future.result(timeout=30)
        self.registry.register_schema(subject_for(name), Schema(schema_for(carries).text, "AVRO"))
        self.made.append(name)
        self.carries[name] = carries
        return name

    def close(self) -> None:
        if not self.made:
            return
        for future in self.admin.delete_topics(self.made, operation_timeout=30).values():
            future.result(timeout=30)
        for name in self.made:
            self.registry.delete_subject(subject_for(name), permanent=False)
        self.made = []

    def __enter__(self) -> ScratchTopics:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
