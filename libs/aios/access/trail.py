"""Admin actions recorded in the audit trail: one keyed row per action, in the chain of tenant `aios-admin`."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg

from aios.access.roles import Principal
from aios.audit.chain import AuditEntry
from aios.audit.store import AuditStore
from aios.canonical import canonical_json

ADMIN_TENANT = "aios-admin"
ADMIN_TOPIC = "aios.admin.actions"
"""Not a Kafka topic: the name these rows carry in the trail; offsets are the action's time in ns."""


async def record_admin_action(pool: asyncpg.Pool, principal: Principal, action: str, details: dict[str, Any]) -> str:
    """Append the action (who, role, what, with which arguments) to the trail; its id."""
    action_id = str(uuid.uuid4())
    record = {"action": action, "principal": principal.name, "role": principal.role, "details": details}
    await AuditStore(pool).append(
        [
            AuditEntry(
                tenant_id=ADMIN_TENANT,
                event_id=action_id,
                record_type=ADMIN_TOPIC,
                topic=ADMIN_TOPIC,
                partition=0,
                offset=time.time_ns(),
                record_time=datetime.now(UTC),
                schema_id=None,
                trace_id=None,
                record=canonical_json(record),
            )
        ]
    )
    return action_id
