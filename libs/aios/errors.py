"""Root of the AIOS exception tree; each subpackage derives its own errors from it."""

from __future__ import annotations

from typing import Any


class AiosError(Exception):
    """Base class for every error AIOS raises on purpose."""


class Refused(AiosError):
    """A request an HTTP edge refuses; `status` and `reason` go back to the caller unchanged."""

    status = 400

    def __init__(self, reason: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.headers = headers or {}

    @property
    def detail(self) -> Any:
        """The answer's `detail`: the reason, or a list of field problems."""
        return self.reason
