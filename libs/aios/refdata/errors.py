"""Errors of reference data: files that cannot be imported at all, and lookups that cannot be made."""

from __future__ import annotations

from aios.errors import AiosError


class RefdataError(AiosError):
    """Reference data could not be read, imported or looked up."""


class RefdataFileInvalid(RefdataError):
    """The file as a whole cannot be imported (unreadable, not CSV, required columns missing); no row was taken."""
