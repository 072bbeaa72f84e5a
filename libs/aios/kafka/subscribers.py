"""Subscribing teams: each a read-only principal on its topics and its own consumer groups, nothing else.

`add` creates the SCRAM user, its ACLs and a registry reader, records the team beside the stack's
other principals, and returns the client settings a standard confluent-kafka program needs.
"""

from __future__ import annotations

import json
import re
from typing import Any

from confluent_kafka.admin import AdminClient
from pydantic import BaseModel, ConfigDict, Field

from aios.errors import AiosError
from aios.kafka.acls import Grant, apply_grants, load_grants, revoke
from aios.kafka.clients import Access
from aios.kafka.credentials import ADMIN, BROKER, SecurityLayout, ensure_principals, forget_principal

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")


class SubscriberError(AiosError):
    """A team cannot be added or removed as asked (bad name, unknown topic, security off)."""


class Subscriber(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str = Field(description="The team's principal.")
    topics: list[str] = Field(description="Topics it may read.")
    group_prefix: str = Field(description="Consumer groups it may use: every id starting with this.")

    def grant(self) -> Grant:
        return Grant(name=self.name, read=self.topics, groups=[f"{self.group_prefix}*"])


def load_subscribers(layout: SecurityLayout) -> dict[str, Subscriber]:
    if not layout.consumers.exists():
        return {}
    raw = json.loads(layout.consumers.read_text())
    return {name: Subscriber.model_validate(entry) for name, entry in raw.items()}


def _save(layout: SecurityLayout, subscribers: dict[str, Subscriber]) -> None:
    layout.directory.mkdir(parents=True, exist_ok=True)
    text = json.dumps({name: s.model_dump() for name, s in sorted(subscribers.items())}, indent=2)
    layout.consumers.write_text(text)


def add_subscriber(
    admin: dict[str, Any], layout: SecurityLayout, name: str, topics: list[str], group_prefix: str | None = None
) -> Subscriber:
    """Create (or bring in line) the team's principal; adding it again with other topics replaces its rights."""
    reserved = {ADMIN, BROKER, *(grant.name for grant in load_grants())}
    if not _NAME.match(name) or name in reserved:
        raise SubscriberError(
            f"{name!r} cannot name a team: use 2-63 of a-z 0-9 . _ - and not a service or {ADMIN}/{BROKER}"
        )
    if not topics:
        raise SubscriberError("name at least one topic to read (--topics T1,T2)")
    existing = set(AdminClient(admin).list_topics(timeout=30).topics)
    unknown = [topic for topic in topics if topic not in existing]
    if unknown:
        raise SubscriberError(f"no such topic: {', '.join(unknown)}")
    subscriber = Subscriber(name=name, topics=topics, group_prefix=group_prefix or name)
    passwords = ensure_principals(layout, [name])
    apply_grants(admin, [subscriber.grant()], passwords)
    _save(layout, {**load_subscribers(layout), name: subscriber})
    return subscriber


def remove_subscriber(admin: dict[str, Any], layout: SecurityLayout, name: str) -> None:
    subscribers = load_subscribers(layout)
    if name not in subscribers:
        raise SubscriberError(f"no subscribing team named {name!r} (`aios consumers list`)")
    revoke(admin, name)
    forget_principal(layout, name)
    del subscribers[name]
    _save(layout, subscribers)


def client_settings(subscriber: Subscriber, access: Access, bootstrap: str, registry_url: str) -> dict[str, Any]:
    """What the team's program passes, as is, to `Consumer(...)` and to `SchemaRegistryClient(...)`."""
    return {
        "consumer": {
            **access.kafka_config(bootstrap),
            "group.id": subscriber.group_prefix,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        },
        "schema_registry": {"url": registry_url, **access.registry()},
    }
