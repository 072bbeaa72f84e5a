"""Errors of retraining."""

from __future__ import annotations

from aios.errors import AiosError


class RetrainRefused(AiosError):
    """The retrained version is worse than production on the holdout by more than the margin: not registered."""
