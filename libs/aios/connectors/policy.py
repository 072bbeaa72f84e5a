"""Per-connector retry policies: attempts, exponential backoff with jitter, retryable errors, a total deadline.

Pure logic: the act executor asks `next_delay_s` after a failed attempt and schedules the retry in
PostgreSQL (never sleeping in the consumer loop), or gives up and fails the action.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace

from pydantic import BaseModel, ConfigDict, Field

from aios.connectors.errors import ConnectorError, RemoteRefused, TransportError

HTTP_RETRYABLE = frozenset({408, 425, 429, 500, 502, 503, 504})
"""Timeouts, rate limits and server-side errors: the request may succeed later."""
SMTP_RETRYABLE = frozenset({421, 450, 451, 452})
"""SMTP's transient negative replies (4xx); 5xx replies are permanent."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    """Attempts in all, the first included."""
    base_delay_s: float = 1.0
    """Delay before the second attempt; each later delay is `multiplier` times the previous one."""
    max_delay_s: float = 60.0
    multiplier: float = 2.0
    jitter: float = 0.2
    """Each delay is spread uniformly by ± this share, so retries of many actions do not arrive together."""
    deadline_s: float = 600.0
    """No attempt starts later than this after the first one."""
    timeout_s: float = 10.0
    """Longest one attempt may take."""
    retryable_statuses: frozenset[int] = field(default=HTTP_RETRYABLE)
    retry_transport_errors: bool = True
    """Whether unreachable targets and timeouts are retried."""

    def retryable(self, error: ConnectorError) -> bool:
        if isinstance(error, TransportError):
            return self.retry_transport_errors
        if isinstance(error, RemoteRefused):
            return error.status in self.retryable_statuses
        return False

    def delay_s(self, attempt: int, rng: random.Random | None = None) -> float:
        """Delay after failed attempt number `attempt` (1-based), jittered."""
        base = min(self.max_delay_s, self.base_delay_s * self.multiplier ** (attempt - 1))
        spread = (rng or random).uniform(-self.jitter, self.jitter)
        return max(0.0, base * (1 + spread))

    def next_delay_s(
        self, error: ConnectorError, attempt: int, elapsed_s: float, rng: random.Random | None = None
    ) -> float | None:
        """When to try again after `error` on attempt `attempt`, `elapsed_s` after the first; None: give up."""
        if not self.retryable(error) or attempt >= self.attempts:
            return None
        delay = self.delay_s(attempt, rng)
        return delay if elapsed_s + delay <= self.deadline_s else None

    def with_overrides(self, overrides: RetryOverrides | None) -> RetryPolicy:
        if overrides is None:
            return self
        changes = overrides.model_dump(exclude_none=True)
        if "retryable_statuses" in changes:
            changes["retryable_statuses"] = frozenset(changes["retryable_statuses"])
        return replace(self, **changes)


class RetryOverrides(BaseModel):
    """A tenant's changes to a connector's default policy (`aios connectors set ... --attempts 3`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    attempts: int | None = Field(default=None, ge=1, le=100)
    base_delay_s: float | None = Field(default=None, ge=0)
    max_delay_s: float | None = Field(default=None, ge=0)
    multiplier: float | None = Field(default=None, ge=1)
    jitter: float | None = Field(default=None, ge=0, le=1)
    deadline_s: float | None = Field(default=None, gt=0)
    timeout_s: float | None = Field(default=None, gt=0, le=300)
    retryable_statuses: list[int] | None = None
    retry_transport_errors: bool | None = None
