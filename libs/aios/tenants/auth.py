"""Who is calling: tenants by API key, webhook sources by secret, cached briefly in-process.

The cache spares PostgreSQL one query per request (and lets keys seen recently send while it is
down); unknown keys are cached too, so guessing keys does not load the database. A revocation
(`aios keys revoke`, `aios webhooks revoke`) is announced on a PostgreSQL channel this process
listens on (from `listen()`, before serving), and empties the cache at once. When the listening
connection is lost (PostgreSQL restarted), listening starts again in the background within
`WATCH_RETRY_S` and empties the cache then, since revocations made meanwhile were not heard; until
then the cache's `auth_cache_s` bounds how long a revoked credential may still be taken.
Rotation's grace periods end by themselves within `auth_cache_s`.
"""

from __future__ import annotations

import asyncio
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
        self._watching: asyncio.Task[None] | None = None
        self._unheard = False
        """Listening was lost: once it runs again, the cache is emptied."""
        self._watch_after = 0.0
        self._generation = 0
        """Counts revocations heard: a lookup that started before one must not fill the cache after it."""

    def forget(self) -> None:
        """A credential was revoked: nothing cached may be used."""
        self._generation += 1
        self._tenants.clear()
        self._sources.clear()

    async def listen(self) -> None:
        """Listen for revocations from now on; at start-up, before the first request."""
        await self._listen()

    def _keep_listening(self) -> None:
        """Listen again when the connection was lost (or never started); in the background, never on a
        request's time (connecting may wait while PostgreSQL is down)."""
        if self._listening() or self._watching is not None or time.monotonic() < self._watch_after:
            return
        self._watch_after = time.monotonic() + WATCH_RETRY_S
        self._watching = asyncio.get_running_loop().create_task(self._listen())

    def _listening(self) -> bool:
        try:
            return self._watch is not None and not self._watch.is_closed()
        except asyncpg.InterfaceError:  # lost, and its pool has taken it back already
            return False

    async def _listen(self) -> None:
        try:
            if self._watch is not None:  # lost: what is cached may have been revoked unheard
                lost, self._watch = self._watch, None
                self._unheard = True
                with contextlib.suppress(*UNAVAILABLE_ERRORS):
                    await self.store.stop_watching(lost)
            self._watch = await self.store.watch_revocations(self.forget)
            if self._unheard:
                self._unheard = False
                self.forget()
        except UNAVAILABLE_ERRORS as exc:
            log.warning("not listening for revocations yet (retry in %g s): %r", WATCH_RETRY_S, exc)
        finally:
            self._watching = None

    async def tenant(self, authorization: str | None) -> Tenant:
        scheme, _, api_key = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not api_key.strip():
            raise Unauthenticated("send `Authorization: Bearer <api key>`", {"WWW-Authenticate": "Bearer"})
        digest = hash_api_key(api_key.strip())
        self._keep_listening()
        hit, tenant = self._tenants.get(digest)
        if not hit:
            generation = self._generation
            tenant = await self.store.tenant_for_api_key(api_key.strip(), self.role)
            if generation == self._generation:
                self._tenants.put(digest, tenant)
        if tenant is None:
            raise Unauthenticated("unknown or expired API key", {"WWW-Authenticate": "Bearer"})
        return tenant

    async def webhook_source(self, source: str) -> WebhookSource | None:
        self._keep_listening()
        hit, found = self._sources.get(source)
        if not hit:
            generation = self._generation
            found = await self.store.webhook_source(source)
            if generation == self._generation:
                self._sources.put(source, found)
        return found

    async def close(self) -> None:
        """Give the listening connection back, before its pool closes."""
        if self._watching is not None:
            self._watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watching
        if self._watch is not None:
            watch, self._watch = self._watch, None
            await self.store.stop_watching(watch)
