"""Least-privilege principals on Kafka: the declaration (infra/acls.yaml) and its idempotent application.

A `Grant` says what one principal may do; `apply_grants` makes the cluster say exactly that for those
principals: missing SCRAM users and ACLs are created, ACLs no longer declared are deleted. Principals
not named are left alone (the admin, the brokers, subscribing teams managed by `aios consumers`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from confluent_kafka import KafkaException
from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialDeletion,
    UserScramCredentialUpsertion,
)
from pydantic import BaseModel, ConfigDict, Field

from aios.kafka.errors import KafkaSetupError
from aios.paths import infra_dir

SCRAM_ITERATIONS = 8192


class Grant(BaseModel):
    """What one principal may do; each entry is a topic or group name, a prefix ending in *, or "*"."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="The principal (SCRAM user name).")
    read: list[str] = Field(default_factory=list, description="Topics it consumes (Read, Describe).")
    write: list[str] = Field(default_factory=list, description="Topics it produces to (Write, Describe).")
    groups: list[str] = Field(default_factory=list, description="Consumer groups it uses (Read).")
    create: list[str] = Field(default_factory=list, description="Topics it creates and manages (All).")
    describe: list[str] = Field(default_factory=list, description="Topics whose metadata and offsets it reads.")
    describe_groups: list[str] = Field(default_factory=list, description="Groups whose offsets it reads.")
    idempotent: bool = Field(
        default=False,
        description=(
            "May open an idempotent producer (IdempotentWrite on the cluster) though it writes no topic: "
            "librdkafka asks for a producer id as soon as the producer exists."
        ),
    )

    def bindings(self) -> set[AclBinding]:
        topic, group = ResourceType.TOPIC, ResourceType.GROUP
        wanted: list[tuple[ResourceType, list[str], tuple[AclOperation, ...]]] = [
            (topic, self.read, (AclOperation.READ, AclOperation.DESCRIBE)),
            (topic, self.write, (AclOperation.WRITE, AclOperation.DESCRIBE)),
            (topic, self.create, (AclOperation.ALL,)),
            (topic, self.describe, (AclOperation.DESCRIBE,)),
            (group, self.groups, (AclOperation.READ,)),
            (group, self.describe_groups, (AclOperation.DESCRIBE,)),
        ]
        if self.idempotent:
            wanted.append((ResourceType.BROKER, ["kafka-cluster"], (AclOperation.IDEMPOTENT_WRITE,)))
        return {
            _binding(self.name, kind, name, operation)
            for kind, names, operations in wanted
            for name in names
            for operation in operations
        }


class AclCatalogue(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    principals: list[Grant]


def load_grants(path: Path | None = None) -> list[Grant]:
    raw = yaml.safe_load((path or infra_dir() / "acls.yaml").read_text())
    return AclCatalogue.model_validate(raw).principals


def _binding(principal: str, kind: ResourceType, name: str, operation: AclOperation) -> AclBinding:
    pattern = ResourcePatternType.LITERAL
    if name.endswith("*") and name != "*":
        name, pattern = name[:-1], ResourcePatternType.PREFIXED
    return AclBinding(kind, name, pattern, f"User:{principal}", "*", operation, AclPermissionType.ALLOW)


@dataclass(frozen=True)
class AclChange:
    principal: str
    action: str
    detail: str = ""


def apply_grants(
    config: dict[str, Any], grants: list[Grant], passwords: dict[str, str], timeout_s: float = 30.0
) -> list[AclChange]:
    """Users and ACLs of `grants` as declared (admin client `config`); what changed, per principal."""
    admin = AdminClient(config)
    changes = ensure_users(admin, {grant.name: passwords[grant.name] for grant in grants}, timeout_s)
    for grant in grants:
        current = _current(admin, grant.name, timeout_s)
        wanted = grant.bindings()
        missing = sorted(wanted - current, key=str)
        stale = sorted(current - wanted, key=str)
        if missing:
            for future in admin.create_acls(missing, request_timeout=timeout_s).values():
                future.result()
            changes.append(AclChange(grant.name, "acls-created", f"{len(missing)} ACL(s)"))
        if stale:
            _delete(admin, stale, timeout_s)
            changes.append(AclChange(grant.name, "acls-deleted", f"{len(stale)} ACL(s)"))
    return changes


def ensure_users(admin: AdminClient, passwords: dict[str, str], timeout_s: float) -> list[AclChange]:
    """Create the SCRAM users that do not exist yet (existing ones keep their credentials)."""
    described = admin.describe_user_scram_credentials(request_timeout=timeout_s)
    assert not isinstance(described, dict)  # asked for every user: one future
    existing = set(described.result())
    missing = [name for name in passwords if name not in existing]
    if not missing:
        return []
    info = ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, SCRAM_ITERATIONS)
    upserts: list[Any] = [UserScramCredentialUpsertion(name, info, passwords[name].encode()) for name in missing]
    for future in admin.alter_user_scram_credentials(upserts, request_timeout=timeout_s).values():
        future.result()
    return [AclChange(name, "user-created") for name in missing]


def revoke(config: dict[str, Any], principal: str, timeout_s: float = 30.0) -> None:
    """Delete the principal's ACLs and SCRAM user (a principal that does not exist is not an error)."""
    admin = AdminClient(config)
    current = _current(admin, principal, timeout_s)
    if current:
        _delete(admin, sorted(current, key=str), timeout_s)
    deletion: list[Any] = [UserScramCredentialDeletion(principal, ScramMechanism.SCRAM_SHA_512)]
    for future in admin.alter_user_scram_credentials(deletion, request_timeout=timeout_s).values():
        try:
            future.result()
        except KafkaException as exc:
            if "RESOURCE_NOT_FOUND" not in str(exc):
                raise KafkaSetupError(f"deleting the SCRAM user {principal!r} failed: {exc}") from exc


def _current(admin: AdminClient, principal: str, timeout_s: float) -> set[AclBinding]:
    any_name: Any = None  # None matches every resource name and host (the stubs say str)
    query = AclBindingFilter(
        ResourceType.ANY,
        any_name,
        ResourcePatternType.ANY,
        f"User:{principal}",
        any_name,
        AclOperation.ANY,
        AclPermissionType.ANY,
    )
    return set(admin.describe_acls(query, request_timeout=timeout_s).result())


def _delete(admin: AdminClient, bindings: list[AclBinding], timeout_s: float) -> None:
    filters = [
        AclBindingFilter(
            b.restype, b.name, b.resource_pattern_type, b.principal, b.host, b.operation, b.permission_type
        )
        for b in bindings
    ]
    for future in admin.delete_acls(filters, request_timeout=timeout_s).values():
        future.result()
