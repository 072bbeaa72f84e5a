"""Webhook replay protection: what a source signed is accepted once, under one idempotency key.

The guard is keyed on `signed_digest` (source, timestamp, body), never on the header's spelling.
The first use records the request's idempotency key; a later request with the same signed content
is a retry of that request when it carries the same key (the acceptor then answers with the first
event), and a replay, refused, when it carries any other.
"""

from __future__ import annotations

import hashlib

from redis.asyncio import Redis


class ReplayGuard:
    def __init__(self, redis: Redis, window_s: int) -> None:
        self.redis = redis
        # Twice the tolerance: a signature is valid from t - tolerance to t + tolerance.
        self.window_s = 2 * window_s

    async def admits(self, signed_digest: str, idempotency_key: str) -> bool:
        """True for the first use of what was signed, and for its retries under the same idempotency key."""
        key = f"aios:replay:{signed_digest}"
        mine = hashlib.sha256(idempotency_key.encode()).hexdigest()
        if await self.redis.set(key, mine, nx=True, ex=self.window_s):
            return True
        first = await self.redis.get(key)
        # None (expired since the SET) refuses: by then the signature's timestamp is stale anyway.
        return first in (mine, mine.encode())
