"""Errors of access control."""

from aios.errors import AiosError


class AccessDenied(AiosError):
    """No credential, a credential that does not verify, or one whose role may not do this."""
