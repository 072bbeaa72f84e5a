"""What the edge knows of an accepted event, for `GET /v1/events/{event_id}` (tenant-scoped)."""

from __future__ import annotations

import json
from datetime import datetime

from redis.asyncio import Redis


class EventStatusStore:
    def __init__(self, redis: Redis, ttl_s: int) -> None:
        self.redis = redis
        self.ttl_s = ttl_s

    @staticmethod
    def _key(event_id: str) -> str:
        return f"aios:event:{event_id}"

    async def record_received(self, event_id: str, tenant_id: str, event_type: str, received_at: datetime) -> None:
        status = {
            "tenant_id": tenant_id,
            "type": event_type,
            "stage": "received",
            "received_at": received_at.isoformat(),
        }
        await self.redis.set(self._key(event_id), json.dumps(status), ex=self.ttl_s)

    async def get(self, event_id: str, tenant_id: str) -> dict[str, str] | None:
        """The event's status, or None when unknown or owned by another tenant."""
        raw = await self.redis.get(self._key(event_id))
        if raw is None:
            return None
        status: dict[str, str] = json.loads(raw)
        return status if status.get("tenant_id") == tenant_id else None
