"""Webhook replay protection: each signature is accepted once within its validity window."""

from __future__ import annotations

import hashlib

from redis.asyncio import Redis


class ReplayGuard:
    def __init__(self, redis: Redis, window_s: int) -> None:
        self.redis = redis
        # Twice the tolerance: a signature is valid from t - tolerance to t + tolerance.
        self.window_s = 2 * window_s

    async def first_use(self, source: str, signature_header: str) -> bool:
        digest = hashlib.sha256(signature_header.encode()).hexdigest()
        return bool(await self.redis.set(f"aios:replay:{source}:{digest}", 1, nx=True, ex=self.window_s))
