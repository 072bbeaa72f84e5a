"""The topic catalogue (`infra/topics.yaml`) and its idempotent application to a cluster."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

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

from aios.kafka.errors import KafkaSetupError
from aios.paths import infra_dir

log = logging.getLogger(__name__)


class TopicDefaults(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    partitions: int = Field(default=6, ge=1)
    replication_factor: int = Field(default=3, ge=1)
    retention_ms: int = Field(default=604_800_000, ge=-1)
    cleanup_policy: Literal["delete", "compact", "compact,delete"] = "delete"


class TopicSpec(BaseModel):
    """One declared topic; fields left out take the catalogue's defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str
    value_schema: str = Field(description="Stem of the `.avsc` in schemas/ its values follow.")
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
    topics: list[TopicSpec]

    def names(self) -> list[str]:
        return [topic.name for topic in self.topics]

    def get(self, name: str) -> TopicSpec:
        for topic in self.topics:
            if topic.name == name:
                return topic
        raise KeyError(name)


def load_catalogue(path: Path | None = None) -> TopicCatalogue:
    """Read the catalogue, filling each topic's omitted fields from `defaults`."""
    raw = yaml.safe_load((path or infra_dir() / "topics.yaml").read_text())
    defaults = TopicDefaults.model_validate(raw.get("defaults", {}))
    topics = [TopicSpec.model_validate({**defaults.model_dump(), **entry}) for entry in raw["topics"]]
    return TopicCatalogue(defaults=defaults, topics=topics)


@dataclass(frozen=True)
class TopicChange:
    topic: str
    action: Literal["created", "partitions-raised", "configs-aligned", "unchanged"]
    detail: str = ""


def apply_topics(bootstrap: str, specs: list[TopicSpec], timeout_s: float = 30.0) -> list[TopicChange]:
    """Bring the cluster in line with `specs`: create, raise partitions, align configs.

    Idempotent: applying twice changes nothing the second time. Lowering partitions or
    replication is never attempted (Kafka cannot do the first safely); it is logged instead.
    """
    admin = AdminClient({"bootstrap.servers": bootstrap})
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


def _align_configs(admin: AdminClient, specs: list[TopicSpec], brokers: int, timeout_s: float) -> list[TopicChange]:
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
