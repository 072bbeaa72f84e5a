"""What can go wrong with stored documents."""

from __future__ import annotations

from aios.errors import AiosError


class ObjectStoreError(AiosError):
    """The object store refused or could not be reached."""


class DocumentNotFound(ObjectStoreError):
    """No such document for this tenant (another tenant's is never found either)."""


class DocumentCorrupted(ObjectStoreError):
    """The stored bytes do not open under the tenant's data key (altered, or another tenant's or object's), or
    no longer hash to the reference's SHA-256."""
