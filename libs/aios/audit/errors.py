"""Errors of the audit trail."""

from aios.errors import AiosError


class AuditError(AiosError):
    """The audit trail cannot be read or written as asked."""


class ChainBrokenError(AuditError):
    """A chain does not verify; retention refuses to remove rows of a broken chain (the evidence)."""
