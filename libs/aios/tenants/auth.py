"""Who is calling: tenants by API key, webhook sources by secret, cached briefly in-process.

The cache spares PostgreSQL one query per request; a revoked key stops working within
`auth_cache_s`. Unknown keys are cached too, so guessing keys does not load the database.
"""

from __future__ import annotations

import time
from typing import Generic, TypeVar

from aios.tenants.errors import Unauthenticated
from aios.tenants.secrets import hash_api_key
from aios.tenants.store import SENDER, Tenant, TenantStore, WebhookSource

T = TypeVar("T")


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

    async def tenant(self, authorization: str | None) -> Tenant:
        scheme, _, api_key = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not api_key.strip():
            raise Unauthenticated("send `Authorization: Bearer <api key>`", {"WWW-Authenticate": "Bearer"})
        digest = hash_api_key(api_key.strip())
        hit, tenant = self._tenants.get(digest)
        if not hit:
            tenant = await self.store.tenant_for_api_key(api_key.strip(), self.role)
            self._tenants.put(digest, tenant)
        if tenant is None:
            raise Unauthenticated("unknown or expired API key", {"WWW-Authenticate": "Bearer"})
        return tenant

    async def webhook_source(self, source: str) -> WebhookSource | None:
        hit, found = self._sources.get(source)
        if not hit:
            found = await self.store.webhook_source(source)
            self._sources.put(source, found)
        return found
