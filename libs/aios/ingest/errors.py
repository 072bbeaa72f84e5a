"""Why a request is refused; each error maps to one HTTP status with a reason for the caller."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from aios.db.pool import UNAVAILABLE_ERRORS
from aios.errors import Refused

REDIS_UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError)
"""Redis cannot be reached right now."""

DEPENDENCY_UNAVAILABLE: tuple[type[Exception], ...] = (*REDIS_UNAVAILABLE, *UNAVAILABLE_ERRORS)
"""Redis (quotas, idempotency keys) or PostgreSQL (API keys) is down: the edge refuses with 503."""
DEPENDENCY_UNAVAILABLE_REASON = (
    "a dependency of the edge (Redis or PostgreSQL) is unavailable; nothing was accepted, retry"
)


class IngestRefused(Refused):
    """A request the ingest edge refuses."""


class InvalidEvent(IngestRefused):
    """The body or a parameter is invalid; `problems` name each field, its problem and the problem's type."""

    status = 400

    def __init__(self, errors: Iterable[Mapping[str, Any]], *loc: str) -> None:
        """`errors` as pydantic reports them; `loc` is where the validated value sits (`header`, its name)."""
        super().__init__("invalid event")
        self.problems = [{"loc": [*loc, *e["loc"]], "msg": e["msg"], "type": e["type"]} for e in errors]

    @property
    def detail(self) -> Any:
        return self.problems


class RequestTimeout(IngestRefused):
    """The body did not arrive in time: the connection is closed, so a stalled client holds nothing."""

    status = 408


class PayloadTooLarge(IngestRefused):
    status = 413


class UnsupportedMediaType(IngestRefused):
    status = 415


class IdempotencyConflict(IngestRefused):
    """The Idempotency-Key was used before for a different request."""

    status = 422


class QuotaExceeded(IngestRefused):
    status = 429


class BrokerUnavailable(IngestRefused):
    """Kafka did not acknowledge in time: the event is not accepted."""

    status = 503


class StoreUnavailable(IngestRefused):
    """The object store did not take a document: nothing is accepted."""

    status = 503
