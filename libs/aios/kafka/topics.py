"""The topic catalogue (`infra/topics.yaml`), a handle per topic, and its idempotent application to a cluster.

`infra/topics.yaml` is the only place a topic name is written: code uses the handles below
(`topics.DECISIONS`, …), and a settings field that names a topic is a `topic_field`, whose default
is its handle's name and which remembers which schema the topic carries when a test or a team
renames it (`schema_bindings`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import yaml
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewPartitions,
    NewTopic,
)
from pydantic import BaseModel, ConfigDict, Field
from pydantic.fields import FieldInfo

from aios.kafka.errors import KafkaSetupError
from aios.paths import infra_dir

log = logging.getLogger(__name__)


class TopicDefaults(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    partitions: int = Field(default=6, ge=1)
    replication_factor: int = Field(default=3, ge=1)
    retention_ms: int = Field(default=604_800_000, ge=-1)
    cleanup_policy: Literal["delete", "compact", "compact,delete"] = "delete"
    key: str = "tenant_id:event_id"


class Topic(BaseModel):
    """One declared topic: the handle code holds instead of its name. Omitted fields take the defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str
    value_schema: str = Field(description="Stem of the `.avsc` in schemas/ its values follow.")
    key: str = Field(description="What a record's key is made of, so per-entity order holds per partition.")
    partitions: int = Field(ge=1)
    replication_factor: int = Field(ge=1)
    retention_ms: int = Field(ge=-1)
    cleanup_policy: Literal["delete", "compact", "compact,delete"]

    def configs(self, brokers: int) -> dict[str, str]:
        replicas = self.effective_replication(brokers)
        return {
            "retention.ms": str(self.retention_ms),
            "cleanup.policy": self.cleanup_policy,
            "min.insync.replicas": "2" if replicas >= 3 else "1",
        }

    def effective_replication(self, brokers: int) -> int:
        return min(self.replication_factor, brokers)


class TopicCatalogue(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    defaults: TopicDefaults
    topics: list[Topic]

    def names(self) -> list[str]:
        return [topic.name for topic in self.topics]

    def get(self, name: str) -> Topic:
        for topic in self.topics:
            if topic.name == name:
                return topic
        raise KeyError(name)

    def carrying(self, value_schema: str) -> Topic:
        """The topic whose values follow `schemas/<value_schema>.avsc` (one per schema)."""
        for topic in self.topics:
            if topic.value_schema == value_schema:
                return topic
        raise KeyError(value_schema)


def load_catalogue(path: Path | None = None) -> TopicCatalogue:
    """Read the catalogue, filling each topic's omitted fields from `defaults`."""
    raw = yaml.safe_load((path or infra_dir() / "topics.yaml").read_text())
    defaults = TopicDefaults.model_validate(raw.get("defaults", {}))
    topics = [Topic.model_validate({**defaults.model_dump(), **entry}) for entry in raw["topics"]]
    return TopicCatalogue(defaults=defaults, topics=topics)


CATALOGUE: Final = load_catalogue()
EVENTS_RECEIVED: Final = CATALOGUE.carrying("event_received")
EVENTS_CLASSIFIED: Final = CATALOGUE.carrying("event_classified")
EVENTS_ENRICHED: Final = CATALOGUE.carrying("event_enriched")
DECISIONS: Final = CATALOGUE.carrying("decision")
REVIEW_REQUESTED: Final = CATALOGUE.carrying("review_requested")
REVIEW_COMPLETED: Final = CATALOGUE.carrying("review_completed")
ACTIONS_EXECUTED: Final = CATALOGUE.carrying("action_executed")
DEADLETTER: Final = CATALOGUE.carrying("dead_letter")
DOCUMENTS_RECEIVED: Final = CATALOGUE.carrying("document_received")
DOCUMENTS_EXTRACTED: Final = CATALOGUE.carrying("document_extracted")

_CARRIES = "carries"
"""The key under which a `topic_field` keeps the catalogue topic whose schema it carries."""


def topic_field(topic: Topic, description: str) -> Any:
    """A settings field naming a topic: `topic`'s name unless overridden (a test's private copy, a team's filtered
    stream), and whatever the name, known to carry `topic`'s schema."""
    return Field(default=topic.name, description=description, json_schema_extra={_CARRIES: topic.name})


def schema_bindings(*settings: BaseModel) -> dict[str, str]:
    """Each topic the `topic_field`s of `settings` name → the catalogue topic whose schema it carries (for Codecs)."""
    bindings: dict[str, str] = {}
    for model in settings:
        for name, info in type(model).model_fields.items():
            carries = _carried(info)
            if carries is not None:
                bindings[getattr(model, name)] = carries
    return bindings


def _carried(info: FieldInfo) -> str | None:
    extra = info.json_schema_extra
    return str(extra[_CARRIES]) if isinstance(extra, dict) and _CARRIES in extra else None


@dataclass(frozen=True)
class TopicChange:
    topic: str
    action: Literal["created", "partitions-raised", "configs-aligned", "unchanged"]
    detail: str = ""


def apply_topics(config: dict[str, Any], specs: list[Topic], timeout_s: float = 30.0) -> list[TopicChange]:
    """Bring the cluster (admin client `config`) in line with `specs`: create, raise partitions, align configs.

    Idempotent: applying twice changes nothing the second time. Lowering partitions or
    replication is never attempted (Kafka cannot do the first safely); it is logged instead.
    """
    admin = AdminClient(config)
    metadata = admin.list_topics(timeout=timeout_s)
    brokers = len(metadata.brokers)
    changes: list[TopicChange] = []

    missing = [spec for spec in specs if spec.name not in metadata.topics]
    if missing:
        futures = admin.create_topics(
            [
                NewTopic(
                    spec.name,
                    num_partitions=spec.partitions,
                    replication_factor=spec.effective_replication(brokers),
                    config=spec.configs(brokers),
                )
                for spec in missing
            ],
            operation_timeout=timeout_s,
        )
        for name, future in futures.items():
            _wait(future, f"creating {name}", timeout_s, tolerate="TOPIC_ALREADY_EXISTS")
            changes.append(TopicChange(name, "created"))

    existing = [spec for spec in specs if spec.name in metadata.topics]
    raise_to = {
        spec.name: spec.partitions for spec in existing if spec.partitions > len(metadata.topics[spec.name].partitions)
    }
    for spec in existing:
        have = len(metadata.topics[spec.name].partitions)
        if spec.partitions < have:
            log.warning(
                "%s has %d partitions, catalogue says %d: left as is",
                spec.name,
                have,
                spec.partitions,
            )
    if raise_to:
        futures = admin.create_partitions(
            [NewPartitions(name, count) for name, count in raise_to.items()],
            operation_timeout=timeout_s,
        )
        for name, future in futures.items():
            _wait(future, f"raising partitions of {name}", timeout_s)
            changes.append(TopicChange(name, "partitions-raised", f"to {raise_to[name]}"))

    changes.extend(_align_configs(admin, [s for s in existing if s.name not in raise_to], brokers, timeout_s))
    return changes


def _align_configs(admin: AdminClient, specs: list[Topic], brokers: int, timeout_s: float) -> list[TopicChange]:
    if not specs:
        return []
    resources = [ConfigResource(ConfigResource.Type.TOPIC, spec.name) for spec in specs]
    described = admin.describe_configs(resources, request_timeout=timeout_s)
    changes = []
    for spec, resource in zip(specs, resources, strict=True):
        current = described[resource].result(timeout=timeout_s)
        wanted = spec.configs(brokers)
        drift = {k: v for k, v in wanted.items() if k not in current or current[k].value != v}
        if not drift:
            changes.append(TopicChange(spec.name, "unchanged"))
            continue
        update = ConfigResource(
            ConfigResource.Type.TOPIC,
            spec.name,
            incremental_configs=[
                ConfigEntry(k, v, incremental_operation=AlterConfigOpType.SET) for k, v in drift.items()
            ],
        )
        for future in admin.incremental_alter_configs([update]).values():
            _wait(future, f"altering configs of {spec.name}", timeout_s)
        changes.append(TopicChange(spec.name, "configs-aligned", ", ".join(f"{k}={v}" for k, v in drift.items())))
    return changes


def _wait(future: object, what: str, timeout_s: float, tolerate: str | None = None) -> None:
    try:
        future.result(timeout=timeout_s)  # type: ignore[attr-defined]
    except Exception as exc:
        if tolerate and tolerate in str(exc):
            return
        raise KafkaSetupError(f"{what} failed: {exc}") from exc
