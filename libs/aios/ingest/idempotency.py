"""Idempotency keys: a retried request gets the first request's event id and adds no record.

A key is claimed as *pending* before producing and marked *done* after the broker's ack, so a
retry that races the first attempt is told to retry later instead of getting a 202 for an
event that may never reach Kafka. A failed produce releases the claim.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from enum import StrEnum

from redis.asyncio import Redis


class ClaimState(StrEnum):
    NEW = "new"
    """First use: produce the event."""
    DONE = "done"
    """Accepted before: answer with the stored event id."""
    PENDING = "pending"
    """Another attempt is producing right now."""
    CONFLICT = "conflict"
    """Same key, different request."""


@dataclass(frozen=True)
class Claim:
    state: ClaimState
    event_id: str


def request_fingerprint(route: str, body: bytes) -> str:
    return hashlib.sha256(route.encode() + b"\0" + body).hexdigest()


class IdempotencyKeys:
    def __init__(self, redis: Redis, ttl_s: int) -> None:
        self.redis = redis
        self.ttl_s = ttl_s

    @staticmethod
    def _key(tenant_id: str, key: str) -> str:
        return f"aios:idem:{tenant_id}:{hashlib.sha256(key.encode()).hexdigest()}"

    async def claim(self, tenant_id: str, key: str, fingerprint: str, event_id: str) -> Claim:
        redis_key = self._key(tenant_id, key)
        record = {"event_id": event_id, "state": "pending", "fingerprint": fingerprint}
        for _ in range(3):  # the key may expire between SET NX and GET
            if await self.redis.set(redis_key, json.dumps(record), nx=True, ex=self.ttl_s):
                return Claim(ClaimState.NEW, event_id)
            raw = await self.redis.get(redis_key)
            if raw is None:
                continue
            existing = json.loads(raw)
            if existing["fingerprint"] != fingerprint:
                return Claim(ClaimState.CONFLICT, existing["event_id"])
            state = ClaimState.DONE if existing["state"] == "done" else ClaimState.PENDING
            return Claim(state, existing["event_id"])
        return Claim(ClaimState.PENDING, event_id)

    async def complete(self, tenant_id: str, key: str, fingerprint: str, event_id: str) -> None:
        record = {"event_id": event_id, "state": "done", "fingerprint": fingerprint}
        await self.redis.set(self._key(tenant_id, key), json.dumps(record), ex=self.ttl_s)

    async def release(self, tenant_id: str, key: str) -> None:
        await self.redis.delete(self._key(tenant_id, key))
