"""Envelope encryption with per-scope (per-tenant) data keys: AES-256-GCM under a data key, the data key
stored in PostgreSQL (`data_keys`) only wrapped by a key-encryption key held outside it.

A sealed value is `aesgcm1:` and base64 of version byte, data key id (16 bytes), nonce (12) and the
ciphertext with its tag; the caller's associated data (e.g. the table and row it belongs to) binds it
to its place, so a sealed value copied into another row does not open. Rotating the KEK re-wraps the
data keys only (`rewrap`): no sealed value is rewritten, and both KEKs open data keys meanwhile.
The same API seals documents (`encrypt`/`decrypt`, bytes in and out) for the object store.
"""

from __future__ import annotations

import base64
import secrets
import uuid

import asyncpg
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from aios.keys.errors import DecryptionError, UnknownKeyError
from aios.keys.keyring import KeyEncryptionKeys, local_keyring

SEALED_PREFIX = "aesgcm1:"
_VERSION = b"\x01"
_NONCE_BYTES = 12
_ID_BYTES = 16
_TAG_BYTES = 16
_HEADER_BYTES = 1 + _ID_BYTES + _NONCE_BYTES


def is_sealed(value: str) -> bool:
    """Whether a stored text is a sealed value (rows written before encryption hold plain text)."""
    return value.startswith(SEALED_PREFIX)


def encrypt_with(key_id: uuid.UUID, key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """Version byte, data key id, a fresh nonce, then AES-256-GCM's ciphertext and tag."""
    nonce = secrets.token_bytes(_NONCE_BYTES)
    return _VERSION + key_id.bytes + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def sealed_key_id(sealed: bytes) -> uuid.UUID:
    """The data key a sealed value names (checked for shape only: `decrypt_with` authenticates)."""
    if len(sealed) < _HEADER_BYTES + _TAG_BYTES or sealed[:1] != _VERSION:
        raise DecryptionError("not a value sealed by aios.keys.envelope")
    return uuid.UUID(bytes=sealed[1 : 1 + _ID_BYTES])


def decrypt_with(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    sealed_key_id(sealed)
    nonce = sealed[1 + _ID_BYTES : _HEADER_BYTES]
    try:
        return AESGCM(key).decrypt(nonce, sealed[_HEADER_BYTES:], aad)
    except InvalidTag as exc:
        raise DecryptionError("a sealed value does not authenticate (altered, or moved from its place)") from exc


class DataKeys:
    """Needs the table of migration `0020_data_security`; data keys unwrapped once are kept in memory."""

    def __init__(self, pool: asyncpg.Pool, keks: KeyEncryptionKeys | None = None) -> None:
        self._pool = pool
        self._keks = keks if keks is not None else local_keyring()
        self._by_id: dict[uuid.UUID, bytes] = {}
        self._by_scope: dict[str, uuid.UUID] = {}
        self._scopes: dict[uuid.UUID, str] = {}

    async def _scope_key(self, scope: str) -> tuple[uuid.UUID, bytes]:
        key_id = self._by_scope.get(scope)
        if key_id is None:
            row = await self._pool.fetchrow(
                "SELECT key_id, kek_id, wrapped FROM data_keys WHERE scope = $1 ORDER BY created_at, key_id LIMIT 1",
                scope,
            )
            if row is None:
                # Two instances may both make one: both keys work, the oldest is used from then on.
                data_key = AESGCM.generate_key(bit_length=256)
                kek_id, wrapped = self._keks.wrap(data_key)
                key_id = uuid.uuid4()
                await self._pool.execute(
                    "INSERT INTO data_keys (key_id, scope, kek_id, wrapped) VALUES ($1, $2, $3, $4)",
                    key_id,
                    scope,
                    kek_id,
                    wrapped,
                )
                self._by_id[key_id] = data_key
            else:
                key_id = row["key_id"]
                self._by_id[key_id] = self._keks.unwrap(row["kek_id"], row["wrapped"])
            self._by_scope[scope] = key_id
            self._scopes[key_id] = scope
        return key_id, self._by_id[key_id]

    async def _key(self, key_id: uuid.UUID) -> bytes:
        if key_id not in self._by_id:
            row = await self._pool.fetchrow("SELECT scope, kek_id, wrapped FROM data_keys WHERE key_id = $1", key_id)
            if row is None:
                raise UnknownKeyError(f"data key {key_id} is not in data_keys")
            self._by_id[key_id] = self._keks.unwrap(row["kek_id"], row["wrapped"])
            self._scopes[key_id] = row["scope"]
        return self._by_id[key_id]

    async def encrypt(self, scope: str, plaintext: bytes, aad: bytes) -> bytes:
        """`plaintext` sealed under `scope`'s data key (made on first use), bound to `aad`."""
        key_id, key = await self._scope_key(scope)
        return encrypt_with(key_id, key, plaintext, aad)

    async def decrypt(self, sealed: bytes, aad: bytes, scope: str | None = None) -> bytes:
        """The plaintext of `sealed`; with `scope`, only if it was sealed under one of that scope's data keys."""
        key_id = sealed_key_id(sealed)
        key = await self._key(key_id)
        if scope is not None and self._scopes[key_id] != scope:
            raise DecryptionError(f"a value of {scope!r} names a data key of another scope")
        return decrypt_with(key, sealed, aad)

    async def seal(self, scope: str, text: str, aad: str) -> str:
        """`encrypt` for text columns."""
        sealed = await self.encrypt(scope, text.encode(), aad.encode())
        return SEALED_PREFIX + base64.urlsafe_b64encode(sealed).decode()

    async def open(self, value: str, aad: str) -> str:
        """The text of a sealed value; a value written before encryption (plain) as it is."""
        if not is_sealed(value):
            return value
        return (await self.decrypt(base64.urlsafe_b64decode(value[len(SEALED_PREFIX) :]), aad.encode())).decode()


async def rewrap(pool: asyncpg.Pool, keks: KeyEncryptionKeys) -> int:
    """Wrap every data key not under the current KEK under it, one row at a time; how many were re-wrapped.

    Readers see either wrapping, both of which the keyring opens, so services go on throughout.
    """
    current = keks.current_id()
    done = 0
    for row in await pool.fetch("SELECT key_id, kek_id, wrapped FROM data_keys WHERE kek_id <> $1", current):
        kek_id, wrapped = keks.wrap(keks.unwrap(row["kek_id"], row["wrapped"]))
        updated = await pool.execute(
            "UPDATE data_keys SET kek_id = $2, wrapped = $3, rewrapped_at = now() WHERE key_id = $1 AND kek_id = $4",
            row["key_id"],
            kek_id,
            wrapped,
            row["kek_id"],
        )
        done += updated.endswith(" 1")
    return done


async def kek_ids_in_use(pool: asyncpg.Pool) -> set[str]:
    return {row["kek_id"] for row in await pool.fetch("SELECT DISTINCT kek_id FROM data_keys")}
