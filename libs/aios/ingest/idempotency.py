"""Idempotency keys: a retried request gets the first request's event id and adds no record.

A key is claimed as *pending* before producing and marked *done* after the broker's ack, so a
retry that races the first attempt is told to retry later instead of getting a 202 for an
event that may never reach Kafka. A failed produce releases the claim. A claim left pending
longer than `stale_after_s` (its attempt died, or answered 503 and still waits for a late ack) is
taken over by the next retry with the same event id: whatever the first attempt may still have
written to Kafka is then the same event, a duplicate downstream stages already ignore.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from enum import StrEnum

from redis.asyncio import Redis

_SWAP_SCRIPT = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
end
return 1
"""
"""Replace (or delete, given '') a key's value only if it is still exactly the one read."""


class ClaimState(StrEnum):
    NEW = "new"
    """First use, or a stale claim taken over: produce the event."""
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
    record: str = ""
    """The pending record this attempt wrote (NEW only): `release` removes that one and no other."""


def request_fingerprint(route: str, body: bytes) -> str:
    return hashlib.sha256(route.encode() + b"\0" + body).hexdigest()


class IdempotencyKeys:
    def __init__(self, redis: Redis, ttl_s: int, stale_after_s: float = 30.0) -> None:
        self.redis = redis
        self.ttl_s = ttl_s
        self.stale_after_s = stale_after_s
        self._swap = redis.register_script(_SWAP_SCRIPT)

    @staticmethod
    def _key(tenant_id: str, key: str) -> str:
        return f"aios:idem:{tenant_id}:{hashlib.sha256(key.encode()).hexdigest()}"

    @staticmethod
    def _pending(event_id: str, fingerprint: str) -> str:
        return json.dumps(
            {"event_id": event_id, "state": "pending", "fingerprint": fingerprint, "claimed_at": time.time()}
        )

    async def claim(self, tenant_id: str, key: str, fingerprint: str, event_id: str) -> Claim:
        redis_key = self._key(tenant_id, key)
        for _ in range(3):  # the key may expire or be taken over between our reads and writes
            mine = self._pending(event_id, fingerprint)
            if await self.redis.set(redis_key, mine, nx=True, ex=self.ttl_s):
                return Claim(ClaimState.NEW, event_id, mine)
            raw = await self.redis.get(redis_key)
            if raw is None:
                continue
            existing = json.loads(raw)
            if existing["fingerprint"] != fingerprint:
                return Claim(ClaimState.CONFLICT, existing["event_id"])
            if existing["state"] == "done":
                return Claim(ClaimState.DONE, existing["event_id"])
            # Instances' clocks may differ a little; a takeover that comes early only repeats the same event.
            if time.time() - float(existing.get("claimed_at", 0)) < self.stale_after_s:
                return Claim(ClaimState.PENDING, existing["event_id"])
            mine = self._pending(existing["event_id"], fingerprint)
            if await self._swap(keys=[redis_key], args=[raw, mine, self.ttl_s]):
                return Claim(ClaimState.NEW, existing["event_id"], mine)
        return Claim(ClaimState.PENDING, event_id)

    async def complete(self, tenant_id: str, key: str, fingerprint: str, event_id: str) -> None:
        record = {"event_id": event_id, "state": "done", "fingerprint": fingerprint}
        await self.redis.set(self._key(tenant_id, key), json.dumps(record), ex=self.ttl_s)

    async def release(self, tenant_id: str, key: str, claim: Claim) -> None:
        """Forget this attempt's claim, unless a later attempt took it over or completed it since."""
        await self._swap(keys=[self._key(tenant_id, key)], args=[claim.record, "", 0])
