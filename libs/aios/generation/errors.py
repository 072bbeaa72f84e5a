"""Errors of draft generation."""

from aios.errors import AiosError


class GenerationError(AiosError):
    """A generator failed on a request, or answered something that cannot be read as a draft."""
