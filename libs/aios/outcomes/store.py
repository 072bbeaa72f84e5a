"""Where outcomes live in Redis, and the one channel that announces them.

Per event: a hash of its parts (`aios:outcome-parts:<event id>`) and its current outcome
(`aios:outcome:<event id>`, JSON with the tenant). A new outcome replaces the stored one only if
none is stored or it takes a waiting outcome to a final one, so the first final outcome stays
(a redelivered record changes nothing, and a retried request gets the same answer). The
replacement and its announcement on `CHANNEL` happen in one script, so an outcome is announced
exactly when it is stored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from redis import Redis as SyncRedis
from redis.asyncio import Redis

from aios.outcomes.model import Outcome

CHANNEL = "aios:outcomes"
"""Every stored outcome is published here as a `StoredOutcome` JSON; waiters pick theirs by event id."""

_SETTLE_SCRIPT = """
local current = redis.call('GET', KEYS[1])
if current and (cjson.decode(current)['outcome']['final'] or ARGV[2] == '0') then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
redis.call('PUBLISH', ARGV[4], ARGV[1])
return 1
"""
"""Store and publish ARGV[1] unless a final outcome is stored, or ARGV[2] says the new one is not final and
one is stored already."""


def outcome_key(event_id: str) -> str:
    return f"aios:outcome:{event_id}"


def parts_key(event_id: str) -> str:
    return f"aios:outcome-parts:{event_id}"


@dataclass(frozen=True)
class StoredOutcome:
    event_id: str
    tenant_id: str
    outcome: Outcome

    def to_json(self) -> str:
        return json.dumps(
            {"event_id": self.event_id, "tenant_id": self.tenant_id, "outcome": self.outcome.model_dump(mode="json")}
        )

    @classmethod
    def from_json(cls, raw: str | bytes) -> StoredOutcome:
        """Raises ValueError for anything that is not a stored outcome (pydantic's errors are ValueErrors too)."""
        stored: Any = json.loads(raw)
        try:
            return cls(str(stored["event_id"]), str(stored["tenant_id"]), Outcome.model_validate(stored["outcome"]))
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a stored outcome: missing or mistyped {exc}") from None


class OutcomeWriter:
    """The notifier's side: add parts, settle outcomes (blocking client: it runs in a consumer-loop handler)."""

    def __init__(self, redis: SyncRedis, ttl_s: int) -> None:
        self.redis = redis
        self.ttl_s = ttl_s
        self._settle = redis.register_script(_SETTLE_SCRIPT)

    def add_parts(self, parts: list[tuple[str, str, str]]) -> dict[str, dict[str, str]]:
        """Store (event id, part name, part) triples; every touched event's parts, all in one round trip."""
        touched = list(dict.fromkeys(event_id for event_id, _, _ in parts))
        pipe = self.redis.pipeline(transaction=False)
        for event_id, name, part in parts:
            pipe.hset(parts_key(event_id), name, part)
            pipe.expire(parts_key(event_id), self.ttl_s)
        for event_id in touched:
            pipe.hgetall(parts_key(event_id))
        results = pipe.execute()[2 * len(parts) :]
        return {
            event_id: {_text(name): _text(value) for name, value in found.items()}
            for event_id, found in zip(touched, results, strict=True)
        }

    def settle(self, outcomes: list[StoredOutcome]) -> list[StoredOutcome]:
        """Store and announce each outcome that changes what is stored; those that did."""
        pipe = self.redis.pipeline(transaction=False)
        for stored in outcomes:
            self._settle(
                keys=[outcome_key(stored.event_id)],
                args=[stored.to_json(), "1" if stored.outcome.final else "0", self.ttl_s, CHANNEL],
                client=pipe,
            )
        changed = pipe.execute()
        return [stored for stored, did in zip(outcomes, changed, strict=True) if did]


async def read_outcome(redis: Redis, event_id: str, tenant_id: str) -> Outcome | None:
    """The event's current outcome, or None when none is known yet or the event is another tenant's."""
    raw = await redis.get(outcome_key(event_id))
    if raw is None:
        return None
    stored = StoredOutcome.from_json(raw)
    return stored.outcome if stored.tenant_id == tenant_id else None


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value
