"""When the SDK tries a request again, and how long it waits first; pure, so tests need no server.

Only answers that say "not now" are retried (429, 502, 503, 504) and failures where the request
may never have arrived (connection errors, timeouts). Retrying a submit is safe because every
attempt carries the same Idempotency-Key.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx
from pydantic import BaseModel, ConfigDict, Field

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
RETRYABLE_ERRORS: tuple[type[Exception], ...] = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
"""httpx errors after which the server may not have seen the request, or died answering it."""


class RetryPolicy(BaseModel):
    """Exponential backoff with full jitter, bounded attempts, and the server's Retry-After honoured."""

    model_config = ConfigDict(frozen=True)

    max_attempts: int = Field(default=8, ge=1, description="Attempts per logical call, the first included.")
    base_delay_s: float = Field(default=0.2, ge=0, description="Ceiling of the first backoff; doubles per attempt.")
    max_delay_s: float = Field(default=20.0, ge=0, description="Ceiling of any backoff of the client's own choosing.")
    max_retry_after_s: float = Field(
        default=60.0, ge=0, description="Longest Retry-After obeyed, so a bad header cannot stall a bot for hours."
    )

    def delay(
        self, attempt: int, retry_after_s: float | None = None, rand: Callable[[], float] = random.random
    ) -> float:
        """Seconds to wait after failed attempt `attempt` (1-based) before the next one.

        Full jitter (uniform in [0, ceiling]) spreads out bots that failed together; a Retry-After
        from the server is a floor, since it knows when capacity returns.
        """
        ceiling = min(self.max_delay_s, self.base_delay_s * 2.0 ** min(attempt - 1, 64))
        backoff = rand() * ceiling
        if retry_after_s is None:
            return backoff
        return max(backoff, min(retry_after_s, self.max_retry_after_s))


def retryable_status(status_code: int) -> bool:
    return status_code in RETRYABLE_STATUSES


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """A Retry-After header (delay-seconds or HTTP-date, RFC 9110) as seconds from now; None if absent or garbled."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
