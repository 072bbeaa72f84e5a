"""What a caller of the SDK must tell apart: a request to fix, and a request to try again later."""

from __future__ import annotations

from dataclasses import dataclass

from aios.errors import AiosError


@dataclass(frozen=True)
class Reason:
    """One reason the API gave for a refusal; `field` is the dotted path in the body, empty for the whole request."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class ClientError(AiosError):
    """Base of the SDK's errors."""


class SubmitRejected(ClientError):
    """The API refused the request (a 4xx other than 429): sending it again cannot succeed, fix it first."""

    def __init__(self, status_code: int, reasons: tuple[Reason, ...]) -> None:
        super().__init__(f"HTTP {status_code}: " + "; ".join(str(reason) for reason in reasons))
        self.status_code = status_code
        self.reasons = reasons


class EventNotFound(SubmitRejected):
    """The event id is unknown to this API key's tenant (or its status has expired)."""


class SubmitFailed(ClientError):
    """No definite answer: retries ran out, or the server failed in a way retrying does not fix.

    The event may or may not have been accepted; submitting again with the same idempotency key
    is safe and tells which.
    """

    def __init__(self, message: str, attempts: int, last_status: int | None = None) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.last_status = last_status
