"""Who is calling: tenants by API key, webhook sources by secret, cached briefly in-process.

The cache spares PostgreSQL one query per request; unknown keys are cached too, so guessing keys
does not load the database. A revocation (`aios keys revoke`, `aios webhooks revoke`) is announced
on a PostgreSQL channel this process listens on, and empties the cache at once; while nobody
listens (not yet, or the connection was lost), nothing is cached, so no revoked credential is ever
taken from the cache. Rotation's grace periods end by themselves within `auth_cache_s`.
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Generic, TypeVar

import asyncpg

from aios.db.pool import UNAVAILABLE_ERRORS
from aios.tenants.errors import Unauthenticated
from aios.tenants.secrets import hash_api_key
from aios.tenants.store import SENDER, Tenant, TenantStore, WebhookSource

log = logging.getLogger(__name__)

T = TypeVar("T")
WATCH_RETRY_S = 5.0
"""How often a process that does not hear revocations tries to listen again."""


class _TtlCache(Generic[T]):
    def __init__(self, ttl_s: float, max_entries: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: dict[str, tuple[float, T | None]] = {}

    def get(self, key: str) -> tuple[bool, T | None]:
        entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            return False, None
        return True, entry[1]

    def clear(self) -> None:
        self._entries.clear()

    def put(self, key: str, value: T | None) -> None:
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key] = (time.monotonic() + self.ttl_s, value)


class Authenticator:
    def __init__(self, store: TenantStore, cache_s: float, role: str = SENDER) -> None:
        self.store = store
        self.role = role
        self._tenants: _TtlCache[Tenant] = _TtlCache(cache_s)
        self._sources: _TtlCache[WebhookSource] = _TtlCache(cache_s)
        self._watch: asyncpg.Connection | None = None
        self._watch_after = 0.0
        self._generation = 0
        """Counts revocations heard: a lookup that started before one must not fill the cache after it."""

    def forget(self) -> None:
        """A credential was revoked (or revocations can no longer be heard): nothing cached may be used."""
        self._generation += 1
        self._tenants.clear()
        self._sources.clear()

    async def _hears_revocations(self) -> bool:
        """Whether the cache may be used: only while this process listens for revocations."""
        if self._watch is not None and not self._watch.is_closed():
            return True
        if self._watch is not None:  # lost; its termination already emptied the cache
            lost, self._watch = self._watch, None
            with contextlib.suppress(*UNAVAILABLE_ERRORS):
                await self.store.stop_watching(lost)
        if time.monotonic() < self._watch_after:
            return False
        self._watch_after = time.monotonic() + WATCH_RETRY_S  # before the await: one attempt at a time
        try:
            self._watch = await self.store.watch_revocations(self.forget)
        except UNAVAILABLE_ERRORS as exc:
            log.warning("not listening for revocations (credentials are not cached meanwhile): %r", exc)
            return False
        return True

    async def tenant(self, authorization: str | None) -> Tenant:
        scheme, _, api_key = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not api_key.strip():
            raise Unauthenticated("send `Authorization: Bearer <api key>`", {"WWW-Authenticate": "Bearer"})
        digest = hash_api_key(api_key.strip())
        cached = await self._hears_revocations()
        hit, tenant = self._tenants.get(digest) if cached else (False, None)
        if not hit:
            generation = self._generation
            tenant = await self.store.tenant_for_api_key(api_key.strip(), self.role)
            if cached and generation == self._generation:
                self._tenants.put(digest, tenant)
        if tenant is None:
            raise Unauthenticated("unknown or expired API key", {"WWW-Authenticate": "Bearer"})
        return tenant

    async def webhook_source(self, source: str) -> WebhookSource | None:
        cached = await self._hears_revocations()
        hit, found = self._sources.get(source) if cached else (False, None)
        if not hit:
            generation = self._generation
            found = await self.store.webhook_source(source)
            if cached and generation == self._generation:
                self._sources.put(source, found)
        return found

    async def close(self) -> None:
        """Give the listening connection back, before its pool closes."""
        if self._watch is not None:
            watch, self._watch = self._watch, None
            await self.store.stop_watching(watch)
