"""Sign-in defences: failed attempts throttled per account and per client address, and a signed form token.

Every attempt counts as a failure until it succeeds, checked and counted in one Redis script, so
concurrent guesses cannot slip past the count and every instance agrees. Past `free` failures in
the window each further failure makes the next attempt wait twice as long as the one before; at
`lockout_after` the wait is the lockout. A waiting attempt is answered 429 with `Retry-After` and
its password is never checked. A success clears the account's count and takes its own attempt back
from the address's count (so signing in to one known account cannot wash an address's guesses).

The sign-in form's CSRF token is `<issued>.<nonce>.<HMAC>` under the server's key: a token the
server did not issue, or issued more than `LOGIN_TOKEN_TTL_S` ago, is refused even when the cookie
and the form agree.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import time
from dataclasses import dataclass

from redis.asyncio import Redis

LOGIN_TOKEN_TTL_S = 3600

_ADMIT_SCRIPT = """
local blocked = math.max(redis.call('PTTL', KEYS[2]), redis.call('PTTL', KEYS[4]))
if blocked > 0 then
  return blocked
end
for i = 0, 1 do
  local free, base_ms, after, lock_ms = tonumber(ARGV[2 + 4 * i]), tonumber(ARGV[3 + 4 * i]),
    tonumber(ARGV[4 + 4 * i]), tonumber(ARGV[5 + 4 * i])
  local failures = redis.call('INCR', KEYS[1 + 2 * i])
  redis.call('EXPIRE', KEYS[1 + 2 * i], ARGV[1])
  local wait = 0
  if failures >= after then
    wait = lock_ms
  elseif failures > free then
    wait = math.min(base_ms * 2 ^ (failures - free - 1), lock_ms)
  end
  if wait > 0 then
    redis.call('SET', KEYS[2 + 2 * i], '1', 'PX', math.floor(wait))
  end
end
return 0
"""
"""Refuse while either block runs (its milliseconds left); else count the attempt for both and set their blocks."""

_SUCCEEDED_SCRIPT = """
redis.call('DEL', KEYS[1], KEYS[2])
if redis.call('EXISTS', KEYS[3]) == 1 then
  redis.call('DECR', KEYS[3])
end
"""
"""Clear the account's count and block; take this attempt back from the address's count, if it is still kept."""


@dataclass(frozen=True)
class ThrottlePolicy:
    free: int
    """Failures within the window that cost no wait."""
    delay_s: float
    """The wait after the first failure past `free`; it doubles with each further one."""
    lockout_after: int
    """Failures within the window that lock the account or address out."""
    lockout_s: float
    """How long a lockout lasts; also the longest wait."""

    def args(self) -> list[float]:
        return [self.free, self.delay_s * 1000, self.lockout_after, self.lockout_s * 1000]


class SignInThrottle:
    def __init__(self, redis: Redis, account: ThrottlePolicy, address: ThrottlePolicy, window_s: int) -> None:
        self.redis = redis
        self.account = account
        self.address = address
        self.window_s = window_s
        self._admit = redis.register_script(_ADMIT_SCRIPT)
        self._succeeded = redis.register_script(_SUCCEEDED_SCRIPT)

    @staticmethod
    def _keys(tenant: str, username: str, address: str) -> list[str]:
        account = hashlib.sha256(f"{tenant}\0{username}".encode()).hexdigest()
        return [
            f"aios:review:signin:account:{account}",
            f"aios:review:signin:account:{account}:blocked",
            f"aios:review:signin:address:{address}",
            f"aios:review:signin:address:{address}:blocked",
        ]

    async def admit(self, tenant: str, username: str, address: str) -> int:
        """0 when the attempt may check its password (it is counted as failed until `succeeded`),
        else the seconds to wait before the next attempt."""
        blocked_ms = await self._admit(
            keys=self._keys(tenant, username, address),
            args=[self.window_s, *self.account.args(), *self.address.args()],
        )
        return math.ceil(int(blocked_ms) / 1000)

    async def succeeded(self, tenant: str, username: str, address: str) -> None:
        await self._succeeded(keys=self._keys(tenant, username, address)[:3])


class LoginTokens:
    """CSRF tokens of the sign-in form, signed with this server's key."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def _mac(self, issued: str, nonce: str) -> str:
        return hmac.new(self._key, f"{issued}.{nonce}".encode(), hashlib.sha256).hexdigest()

    def issue(self, now: float | None = None) -> str:
        issued, nonce = str(int(time.time() if now is None else now)), secrets.token_urlsafe(24)
        return f"{issued}.{nonce}.{self._mac(issued, nonce)}"

    def valid(self, token: str, now: float | None = None) -> bool:
        issued, _, rest = token.partition(".")
        nonce, _, mac = rest.partition(".")
        if not (issued.isascii() and issued.isdecimal()) or not nonce or not mac.isascii():
            return False
        age = (time.time() if now is None else now) - int(issued)
        return 0 <= age <= LOGIN_TOKEN_TTL_S and hmac.compare_digest(mac, self._mac(issued, nonce))
