"""Why a request is refused; each error maps to one HTTP status with a reason for the caller."""

from __future__ import annotations

from aios.errors import AiosError


class IngestRefused(AiosError):
    """A request the edge refuses; `status` and `reason` go back to the caller unchanged."""

    status = 400

    def __init__(self, reason: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.headers = headers or {}


class Unauthenticated(IngestRefused):
    status = 401


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


class SignatureInvalid(Unauthenticated):
    """Webhook signature missing, malformed, stale, forged or replayed."""
