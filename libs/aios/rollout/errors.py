"""Errors of rollouts."""

from __future__ import annotations

from aios.errors import AiosError


class RolloutError(AiosError):
    """A rollout that cannot start or go on (a bad plan, another rollout of the same model under way)."""
