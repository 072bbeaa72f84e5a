"""Errors of the decide service."""

from aios.errors import AiosError


class DecideError(AiosError):
    """A record could not be decided."""


class UnknownReview(DecideError):
    """A review verdict names a review this service never requested (or whose state was lost)."""
