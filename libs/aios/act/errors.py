"""Errors of the act service."""

from aios.errors import AiosError


class ActError(AiosError):
    """The act service cannot take or run actions."""


class InvalidDecisionError(ActError):
    """A decision record the act service cannot plan (its actions do not fit the contract)."""
