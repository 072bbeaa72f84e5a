"""The active policy of every tenant, followed from PostgreSQL while the service runs.

`aios policy apply` bumps a revision; `follow` reads it every few seconds and reloads the
policies only when it grew, so a new version decides events within seconds, without a restart.
A database outage keeps the last policies in use. Until the first load, `wait_ready` holds
events back rather than deciding them without their tenant's policy; and an event of a tenant
without a policy here looks again when the last look is older than the event, so a policy applied
before an event was written always decides it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Protocol

from aios.db.migrations import migrate
from aios.db.pool import open_pool
from aios.policy.loading import LoadedPolicy
from aios.policy.store import PolicyStore

log = logging.getLogger(__name__)


class PolicySource(Protocol):
    async def active(self, tenant_id: str, written_at: float) -> LoadedPolicy | None:
        """The tenant's active policy for an event written at `written_at` (Unix seconds), None when it has none."""

    async def version(self, tenant_id: str, version: str) -> LoadedPolicy:
        """A recorded version (a review verdict is decided under the version that asked for it)."""


class PolicyCache:
    def __init__(self, postgres_dsn: str, poll_interval_s: float = 2.0) -> None:
        self.postgres_dsn = postgres_dsn
        self.poll_interval_s = poll_interval_s
        self._active: dict[str, LoadedPolicy] = {}
        self._versions: dict[tuple[str, str], LoadedPolicy] = {}
        self._revision = -1
        self._store: PolicyStore | None = None
        self._ready = asyncio.Event()
        self._checked_at = 0.0
        """Wall-clock time of the last revision check, to compare with record timestamps."""

    async def active(self, tenant_id: str, written_at: float) -> LoadedPolicy | None:
        """A tenant without a policy here may have been given one after the last look: look again
        when that look predates the event (one cheap revision query, only for such tenants)."""
        found = self._active.get(tenant_id)
        if found is None and self._store is not None and self._checked_at < written_at:
            await self.refresh(self._store)
            found = self._active.get(tenant_id)
        return found

    async def version(self, tenant_id: str, version: str) -> LoadedPolicy:
        found = self._versions.get((tenant_id, version))
        if found is None:
            if self._store is None:
                await self.wait_ready()
            assert self._store is not None
            found = self._versions[(tenant_id, version)] = await self._store.version(tenant_id, version)
        return found

    async def wait_ready(self) -> None:
        await self._ready.wait()

    async def follow(self) -> None:
        """Poll until cancelled; reconnects after losing the database."""
        while True:
            try:
                async with open_pool(self.postgres_dsn, min_size=1, max_size=2) as pool:
                    await migrate(pool)
                    self._store = PolicyStore(pool)
                    while True:
                        await self.refresh(self._store)
                        await asyncio.sleep(self.poll_interval_s)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("decide: cannot read policies; keeping revision %s", self._revision)
                self._store = None
                await asyncio.sleep(self.poll_interval_s)

    async def refresh(self, store: PolicyStore) -> None:
        self._checked_at = time.time()
        revision = await store.revision()
        if revision != self._revision:
            active = await store.active()
            self._active = active
            for tenant_id, loaded in active.items():
                self._versions[(tenant_id, loaded.version)] = loaded
            self._revision = revision
            log.info("decide: policies at revision %s for %d tenant(s)", revision, len(active))
        self._ready.set()
