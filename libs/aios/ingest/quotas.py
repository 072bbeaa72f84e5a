"""Per-tenant quotas as a Redis token bucket, shared by every ingest instance.

The bucket lives in Redis and is updated by one Lua script using Redis' own clock, so
instances with skewed clocks still share one fair limit. A tenant's limits may be overridden
in the hash `aios:quota:limits` (`tenant_id` → `"<rate per s>,<burst>"`), read in the same call.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from redis.asyncio import Redis

LIMITS_KEY = "aios:quota:limits"

_BUCKET_SCRIPT = """
local override = redis.call('HGET', KEYS[2], ARGV[3])
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
if override then
  local r, b = string.match(override, '([^,]+),([^,]+)')
  rate, burst = tonumber(r), tonumber(b)
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate / 1000)
local allowed, wait_ms = 0, 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait_ms = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return {allowed, wait_ms}
"""


@dataclass(frozen=True)
class QuotaDecision:
    allowed: bool
    retry_after_s: int
    """Whole seconds until a token is available (HTTP Retry-After), 0 when allowed."""


class TenantQuotas:
    def __init__(self, redis: Redis, rate_per_s: float, burst: int) -> None:
        self.redis = redis
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._script = redis.register_script(_BUCKET_SCRIPT)

    async def take(self, tenant_id: str) -> QuotaDecision:
        allowed, wait_ms = await self._script(
            keys=[f"aios:quota:bucket:{tenant_id}", LIMITS_KEY], args=[self.rate_per_s, self.burst, tenant_id]
        )
        return QuotaDecision(bool(allowed), 0 if allowed else max(1, math.ceil(int(wait_ms) / 1000)))

    async def set_limits(self, tenant_id: str, rate_per_s: float, burst: int) -> None:
        """Override the default limits for one tenant (all instances see it at once)."""
        await self.redis.hset(LIMITS_KEY, tenant_id, f"{rate_per_s},{burst}")
