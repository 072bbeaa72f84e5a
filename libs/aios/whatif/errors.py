"""Errors of what-if replay."""

from __future__ import annotations

from aios.errors import AiosError


class ReplayError(AiosError):
    """The replay cannot run as asked (no such tenant, a policy of another tenant, an empty window)."""
