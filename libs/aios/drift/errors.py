"""Errors of drift monitoring."""

from aios.errors import AiosError


class DriftError(AiosError):
    """A reference distribution is malformed (a registry row written by something else)."""
