"""Documents encrypted at rest client-side, under their tenant's data key (`aios.keys.envelope`).

Each object is sealed with AES-256-GCM under the tenant's data key, the data key's id in the sealed
bytes' header and the key itself only in `data_keys`, wrapped by the key-encryption key: `aios secrets
rotate-kek` re-wraps data keys, so documents follow a rotation without being rewritten. The associated
data binds the bytes to their tenant and object key, and only the tenant's own data keys open them: an
object copied under another tenant, or to another key, does not open.
"""

from __future__ import annotations

import asyncpg

from aios.keys.envelope import DataKeys
from aios.keys.errors import DecryptionError
from aios.objects.errors import DocumentCorrupted
from aios.objects.settings import ObjectStoreSettings
from aios.objects.store import DocumentStore

SEALED_WITH = "aios-envelope-1"
"""What a sealed object's `encryption` metadata says; objects stored before encryption have none."""


def document_aad(tenant_id: str, object_key: str) -> bytes:
    return f"documents:{tenant_id}:{object_key}".encode()


class EnvelopeSealer:
    """The tenant's data key seals what goes to the store and opens what comes back."""

    name = SEALED_WITH

    def __init__(self, data_keys: DataKeys) -> None:
        self._data_keys = data_keys

    async def seal(self, tenant_id: str, object_key: str, data: bytes) -> bytes:
        return await self._data_keys.encrypt(tenant_id, data, document_aad(tenant_id, object_key))

    async def open(self, tenant_id: str, object_key: str, sealed: bytes) -> bytes:
        try:
            return await self._data_keys.decrypt(sealed, document_aad(tenant_id, object_key), scope=tenant_id)
        except DecryptionError as exc:
            raise DocumentCorrupted(f"{object_key} does not open under tenant {tenant_id}'s data key: {exc}") from exc


def sealed_store(pool: asyncpg.Pool, settings: ObjectStoreSettings | None = None) -> DocumentStore:
    """The document store every writer and reader of documents uses: sealed under data keys kept in `pool`."""
    return DocumentStore(EnvelopeSealer(DataKeys(pool)), settings)
