"""The local stack as one unit: start in dependency order, report, stop."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from typing import Any, Protocol

from aios.kafka.acls import AclChange, apply_grants, load_grants
from aios.kafka.credentials import ensure_principals, security_layout
from aios.kafka.topics import TopicChange, apply_topics, load_catalogue
from aios.stack.jaeger import JaegerServer
from aios.stack.kafka import KafkaCluster, apache_kafka_available, recorded_brokers
from aios.stack.llm import LlmServer
from aios.stack.llm import available as llm_available
from aios.stack.postgres import PostgresServer
from aios.stack.prometheus import PrometheusServer
from aios.stack.redis import RedisServer
from aios.stack.schema_registry import SchemaRegistryServer
from aios.stack.seaweedfs import SeaweedFSServer
from aios.stack.settings import StackSettings
from aios.stack.tansu import TansuBroker


class Component(Protocol):
    """What the stack needs of each part: start (idempotent), health, endpoints, stop."""

    name: str

    def start(self) -> None: ...
    def stop(self) -> None: ...
    def healthy(self) -> bool: ...
    def endpoints(self) -> dict[str, str]: ...


class LocalStack:
    """Kafka, the schema registry, PostgreSQL, Redis, Prometheus, Jaeger and SeaweedFS as loopback processes."""

    def __init__(self, settings: StackSettings | None = None, brokers: int | None = None) -> None:
        self.settings = settings or StackSettings()
        self.brokers = brokers or recorded_brokers(self.settings) or 1
        self.postgres = PostgresServer(self.settings)
        self.redis = RedisServer(self.settings)
        self.kafka: KafkaCluster | TansuBroker = (
            KafkaCluster(self.settings, self.brokers)
            if apache_kafka_available()
            else TansuBroker(self.settings, self.brokers)
        )
        self.registry = SchemaRegistryServer(
            self.settings, lambda: self.postgres.registry_dsn, lambda: self.kafka.access
        )
        self.prometheus = PrometheusServer(self.settings)
        self.jaeger = JaegerServer(self.settings)
        self.seaweedfs = SeaweedFSServer(self.settings)
        # Optional: where llama-cpp-python could not be built, the stack runs without it (extractive drafts).
        self.llm = LlmServer(self.settings) if llm_available() else None

    @property
    def components(self) -> list[Component]:
        """In start order: the registry stores its schemas in PostgreSQL."""
        parts: list[Component] = [
            self.postgres,
            self.redis,
            self.kafka,
            self.registry,
            self.prometheus,
            self.jaeger,
            self.seaweedfs,
        ]
        if self.llm is not None:
            parts.append(self.llm)
        return parts

    def up(self, on_step: Callable[[str], None] = lambda _: None) -> list[TopicChange]:
        """Start whatever is not running, wait for health, apply topics and register schemas."""
        from aios.kafka.subjects import register_all

        for component in self.components:
            on_step(f"starting {component.name}")
            component.start()
        on_step("applying topics")
        changes = apply_topics(self.kafka.client_config(), load_catalogue().topics)
        if self.kafka.access.secure:
            on_step("applying ACLs")
            self.apply_acls()
        on_step("registering schemas")
        register_all(self.registry.client_config())
        self._write_state()
        return changes

    def client_environment(self) -> dict[str, str]:
        """The `AIOS_*` variables of this stack's security, for processes started against it."""
        access = self.kafka.access
        if not access.secure:
            return {"AIOS_KAFKA_SECURITY_PROTOCOL": "PLAINTEXT"}
        return {
            "AIOS_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "AIOS_KAFKA_CA_LOCATION": str(access.ca_location),
            "AIOS_CREDENTIALS_FILE": str(security_layout(self.settings.state_dir).principals),
        }

    def apply_acls(self) -> list[AclChange]:
        """Every service's SCRAM user and ACLs as infra/acls.yaml declares them (`aios acls apply`)."""
        grants = load_grants()
        passwords = ensure_principals(security_layout(self.settings.state_dir), [grant.name for grant in grants])
        return apply_grants(self.kafka.client_config(), grants, passwords)

    def down(self, purge: bool = False) -> None:
        for component in reversed(self.components):
            component.stop()
        if purge and self.settings.state_dir.exists():
            shutil.rmtree(self.settings.state_dir)

    def endpoints(self) -> dict[str, str]:
        merged: dict[str, str] = {}
        for component in self.components:
            merged.update(component.endpoints())
        return merged

    def status(self) -> dict[str, Any]:
        """Endpoints plus each component's health, as `aios stack status --json` prints it."""
        health = {component.name: component.healthy() for component in self.components}
        return {
            **self.endpoints(),
            "brokers": self.brokers,
            "security": self.mode(),
            "state_dir": str(self.settings.state_dir),
            "components": health,
            "healthy": all(health.values()),
        }

    def mode(self) -> str:
        """Security as `aios stack status` says it: on, or off for development."""
        if self.kafka.access.secure:
            return (
                "on: Kafka SASL_SSL (SCRAM-SHA-512, TLS), ACLs deny by default, registry basic auth, "
                "PostgreSQL SCRAM over TLS with a role per service, Redis ACL users per service"
            )
        return "OFF (development only): PLAINTEXT Kafka, no ACLs, open registry, trusted PostgreSQL, open Redis"

    def _write_state(self) -> None:
        """Endpoints on disk, so other tools (and `aios up`) read them without asking every port."""
        path = self.settings.state_dir / "stack.json"
        path.write_text(json.dumps(self.endpoints(), indent=2))
