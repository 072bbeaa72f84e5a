"""Tenants, their API keys and webhook sources' signing secrets, kept in PostgreSQL.

API keys are stored only as SHA-256 digests (`aios.tenants.secrets.hash_api_key`). Webhook
secrets must stay retrievable, since verifying an HMAC needs the key itself, so they are stored
sealed under the tenant's data key (`aios.keys.envelope`), bound to their source.

Rotation never cuts clients off: the previous credentials get an expiry of now plus the grace
period (`TenantSettings`) while the new one works at once. Credentials whose grace has run out
are deleted at the next rotation of the same tenant or source.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import asyncpg

from aios.keys.envelope import DataKeys, is_sealed
from aios.tenants.errors import DuplicateTenantError, InvalidNameError, TenantNotFoundError, WebhookSourceTakenError
from aios.tenants.secrets import hash_api_key, new_api_key, new_webhook_secret
from aios.tenants.settings import TenantSettings

logger = logging.getLogger(__name__)

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
"""Tenant and source names: safe in a URL path segment (`/v1/webhooks/{source}`) and a shell."""

SENDER = "sender"
AUDITOR = "auditor"
KEY_ROLES = (SENDER, AUDITOR)
REVOCATIONS = "aios_credentials_revoked"
"""PostgreSQL channel a revocation is announced on (at commit): every `Authenticator` then forgets its cache."""
"""What an API key may do: senders submit events (ingest), auditors read the tenant's audit trail."""


@dataclass(frozen=True)
class Tenant:
    """Who an API key or webhook source acts for."""

    tenant_id: str
    name: str


@dataclass(frozen=True)
class IssuedKey:
    """A new API key in plain text: shown to the operator once, never stored."""

    tenant_id: str
    name: str
    api_key: str


@dataclass(frozen=True)
class IssuedWebhookSecret:
    """A new signing secret for the operator to configure in the sending system."""

    source: str
    tenant_id: str
    secret: str


@dataclass(frozen=True)
class WebhookSource:
    """A source's owner and every secret a signature may currently use, newest first."""

    source: str
    tenant_id: str
    secrets: tuple[str, ...]


def _valid_name(kind: str, name: str) -> None:
    if not NAME_PATTERN.fullmatch(name):
        raise InvalidNameError(
            f"{kind} name {name!r} must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )


def _secret_aad(source: str) -> str:
    return f"webhook_secrets:{source}"


def _as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


class TenantStore:
    """Issues, rotates and checks credentials; needs the tables of migration `0001_tenants`."""

    def __init__(
        self, pool: asyncpg.Pool, settings: TenantSettings | None = None, data_keys: DataKeys | None = None
    ) -> None:
        self._pool = pool
        self._settings = settings or TenantSettings()
        self._data_keys = data_keys or DataKeys(pool)

    async def create_tenant(self, name: str) -> IssuedKey:
        """A new tenant and its first API key."""
        _valid_name("tenant", name)
        # A UUID-shaped name would make `resolve` ambiguous between names and ids.
        if _as_uuid(name) is not None:
            raise InvalidNameError(f"tenant name {name!r} looks like a tenant id")
        tenant_id = uuid.uuid4()
        api_key = new_api_key()
        async with self._pool.acquire() as conn, conn.transaction():
            inserted = await conn.fetchval(
                "INSERT INTO tenants (tenant_id, name) VALUES ($1, $2)"
                " ON CONFLICT (name) DO NOTHING RETURNING tenant_id",
                tenant_id,
                name,
            )
            if inserted is None:
                raise DuplicateTenantError(name)
            await conn.execute(
                "INSERT INTO api_keys (key_hash, tenant_id) VALUES ($1, $2)", hash_api_key(api_key), tenant_id
            )
        logger.info("created tenant %s (%s)", name, tenant_id)
        return IssuedKey(str(tenant_id), name, api_key)

    async def tenants(self) -> list[Tenant]:
        """Every tenant, by name."""
        rows = await self._pool.fetch("SELECT tenant_id, name FROM tenants ORDER BY name")
        return [Tenant(str(row["tenant_id"]), row["name"]) for row in rows]

    async def resolve(self, tenant: str) -> Tenant:
        """The tenant named `tenant` or with id `tenant`."""
        async with self._pool.acquire() as conn:
            return await self._resolve(conn, tenant)

    async def rotate_key(self, tenant: str) -> IssuedKey:
        """A new API key, working at once; the tenant's current keys expire after the grace period."""
        api_key = new_api_key()
        async with self._pool.acquire() as conn, conn.transaction():
            found = await self._resolve(conn, tenant)
            tenant_id = uuid.UUID(found.tenant_id)
            # The row lock serialises concurrent rotations, so each sees the key the other added.
            await conn.execute("SELECT FROM tenants WHERE tenant_id = $1 FOR UPDATE", tenant_id)
            await conn.execute(
                "DELETE FROM api_keys WHERE tenant_id = $1 AND role = 'sender' AND expires_at <= now()", tenant_id
            )
            await conn.execute(
                "UPDATE api_keys SET expires_at = now() + $2::interval"
                " WHERE tenant_id = $1 AND role = 'sender' AND expires_at IS NULL",
                tenant_id,
                timedelta(seconds=self._settings.key_grace_s),
            )
            await conn.execute(
                "INSERT INTO api_keys (key_hash, tenant_id) VALUES ($1, $2)", hash_api_key(api_key), tenant_id
            )
        logger.info("rotated the API key of tenant %s (%s)", found.name, found.tenant_id)
        return IssuedKey(found.tenant_id, found.name, api_key)

    async def add_key(self, tenant: str, role: str) -> IssuedKey:
        """One more API key of `role` for the tenant (auditors get keys of their own); the others keep working."""
        if role not in KEY_ROLES:
            raise InvalidNameError(f"key role {role!r} is not one of {', '.join(KEY_ROLES)}")
        api_key = new_api_key()
        async with self._pool.acquire() as conn, conn.transaction():
            found = await self._resolve(conn, tenant)
            await conn.execute(
                "INSERT INTO api_keys (key_hash, tenant_id, role) VALUES ($1, $2, $3)",
                hash_api_key(api_key),
                uuid.UUID(found.tenant_id),
                role,
            )
        logger.info("issued a %s key for tenant %s (%s)", role, found.name, found.tenant_id)
        return IssuedKey(found.tenant_id, found.name, api_key)

    async def revoke_keys(self, tenant: str, role: str = SENDER, api_key: str | None = None) -> int:
        """End the tenant's keys of `role` now, or only `api_key` when given, grace or not; how many ended."""
        async with self._pool.acquire() as conn, conn.transaction():
            found = await self._resolve(conn, tenant)
            revoked = await conn.fetch(
                "DELETE FROM api_keys WHERE tenant_id = $1 AND role = $2 AND ($3::text IS NULL OR key_hash = $3)"
                " RETURNING key_hash",
                uuid.UUID(found.tenant_id),
                role,
                None if api_key is None else hash_api_key(api_key),
            )
            await conn.execute("SELECT pg_notify($1, $2)", REVOCATIONS, found.tenant_id)
        logger.info("revoked %d %s key(s) of tenant %s (%s)", len(revoked), role, found.name, found.tenant_id)
        return len(revoked)

    async def revoke_webhook_secrets(self, source: str) -> int:
        """End every signing secret of `source` now (it stays registered: `add_webhook_source` issues a new one)."""
        async with self._pool.acquire() as conn, conn.transaction():
            revoked = await conn.fetch("DELETE FROM webhook_secrets WHERE source = $1 RETURNING source", source)
            await conn.execute("SELECT pg_notify($1, $2)", REVOCATIONS, source)
        logger.info("revoked %d signing secret(s) of webhook source %s", len(revoked), source)
        return len(revoked)

    async def watch_revocations(self, revoked: Callable[[], None]) -> asyncpg.Connection:
        """A connection of the pool that calls `revoked` at every revocation (until it is closed or lost:
        `is_closed()`); give it back with `stop_watching`."""
        conn: asyncpg.Connection = await self._pool.acquire()
        try:
            await conn.add_listener(REVOCATIONS, lambda *_: revoked())
        except BaseException:
            await self._pool.release(conn)
            raise
        return conn

    async def stop_watching(self, conn: asyncpg.Connection) -> None:
        """Back to the pool, whose reset drops the listeners (`UNLISTEN *`)."""
        await self._pool.release(conn)

    async def tenant_for_api_key(self, api_key: str, role: str = SENDER) -> Tenant | None:
        """The tenant `api_key` belongs to, None when the key is unknown, expired or of another role."""
        row = await self._pool.fetchrow(
            "SELECT t.tenant_id, t.name FROM api_keys k JOIN tenants t USING (tenant_id)"
            " WHERE k.key_hash = $1 AND k.role = $2 AND (k.expires_at IS NULL OR k.expires_at > now())",
            hash_api_key(api_key),
            role,
        )
        return None if row is None else Tenant(str(row["tenant_id"]), row["name"])

    async def add_webhook_source(self, source: str, tenant: str) -> IssuedWebhookSecret:
        """Register `source` for `tenant` with a new secret, or rotate: earlier secrets stay valid for the grace period.

        Raises WebhookSourceTakenError when the source belongs to another tenant.
        """
        _valid_name("source", source)
        secret = new_webhook_secret()
        found = await self.resolve(tenant)
        sealed = await self._data_keys.seal(found.tenant_id, secret, _secret_aad(source))
        async with self._pool.acquire() as conn, conn.transaction():
            found = await self._resolve(conn, tenant)
            tenant_id = uuid.UUID(found.tenant_id)
            # No conflict target: the source's two unique indexes (source; source and tenant) may each be the one a
            # concurrent insert of the same source trips, and either means "someone has it" (the owner check follows).
            await conn.execute(
                "INSERT INTO webhook_sources (source, tenant_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                source,
                tenant_id,
            )
            # Locking the source row serialises concurrent rotations of one source.
            owner = await conn.fetchval("SELECT tenant_id FROM webhook_sources WHERE source = $1 FOR UPDATE", source)
            if owner != tenant_id:
                raise WebhookSourceTakenError(source)
            await conn.execute("DELETE FROM webhook_secrets WHERE source = $1 AND expires_at <= now()", source)
            await conn.execute(
                "UPDATE webhook_secrets SET expires_at = now() + $2::interval WHERE source = $1 AND expires_at IS NULL",
                source,
                timedelta(seconds=self._settings.webhook_secret_grace_s),
            )
            await conn.execute(
                "INSERT INTO webhook_secrets (source, secret, tenant_id) VALUES ($1, $2, $3)", source, sealed, tenant_id
            )
        logger.info("issued a signing secret for webhook source %s of tenant %s", source, found.name)
        return IssuedWebhookSecret(source, found.tenant_id, secret)

    async def webhook_source(self, source: str) -> WebhookSource | None:
        """The source's tenant and active secrets; None when unknown or when no secret is active."""
        rows = await self._pool.fetch(
            "SELECT tenant_id, secret FROM webhook_secrets"
            " WHERE source = $1 AND (expires_at IS NULL OR expires_at > now())"
            " ORDER BY created_at DESC, expires_at DESC NULLS FIRST",
            source,
        )
        if not rows:
            return None
        secrets = [await self._data_keys.open(row["secret"], _secret_aad(source)) for row in rows]
        return WebhookSource(source, str(rows[0]["tenant_id"]), tuple(secrets))

    async def seal_plaintext_secrets(self) -> int:
        """Seal the signing secrets stored before they were encrypted; how many."""
        sealed = 0
        for row in await self._pool.fetch("SELECT source, tenant_id, secret FROM webhook_secrets"):
            if is_sealed(row["secret"]):
                continue
            value = await self._data_keys.seal(str(row["tenant_id"]), row["secret"], _secret_aad(row["source"]))
            status = await self._pool.execute(
                "UPDATE webhook_secrets SET secret = $3 WHERE source = $1 AND secret = $2",
                row["source"],
                row["secret"],
                value,
            )
            sealed += status.endswith(" 1")
        return sealed

    @staticmethod
    async def _resolve(conn: asyncpg.Connection, tenant: str) -> Tenant:
        # Names never parse as UUIDs (create_tenant refuses them), so at most one branch matches.
        row = await conn.fetchrow(
            "SELECT tenant_id, name FROM tenants WHERE name = $1 OR tenant_id = $2", tenant, _as_uuid(tenant)
        )
        if row is None:
            raise TenantNotFoundError(tenant)
        return Tenant(str(row["tenant_id"]), row["name"])
