"""Policy versions in PostgreSQL: every applied file is kept, one version per tenant is active.

`aios policy apply` records a version and activates it in one transaction; the decide service
polls the activation revision and loads what changed. Old versions stay, so a decision's
recorded version can always be read back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import asyncpg

from aios.policy.errors import PolicyInvalid, PolicyNotFound
from aios.policy.loading import LoadedPolicy, load_policy

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Applied:
    tenant_id: str
    version: str
    new_version: bool
    """False when this exact file was applied before (it is active again either way)."""
    changed: bool
    """False when it was already the active version."""


class PolicyStore:
    """Needs the tables of migration `0005_decide_review`."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def apply(self, tenant_id: str, loaded: LoadedPolicy) -> Applied:
        """Record `loaded` for the tenant and make it the active version."""
        async with self._pool.acquire() as conn, conn.transaction():
            inserted = await conn.fetchval(
                "INSERT INTO policy_versions (tenant_id, version, source) VALUES ($1, $2, $3)"
                " ON CONFLICT DO NOTHING RETURNING version",
                tenant_id,
                loaded.version,
                loaded.source,
            )
            active = await conn.fetchval(
                "SELECT version FROM active_policies WHERE tenant_id = $1 FOR UPDATE", tenant_id
            )
            if active != loaded.version:
                await conn.execute(
                    "INSERT INTO active_policies (tenant_id, version) VALUES ($1, $2)"
                    " ON CONFLICT (tenant_id) DO UPDATE SET version = EXCLUDED.version,"
                    " revision = nextval('policy_revision'), activated_at = now()",
                    tenant_id,
                    loaded.version,
                )
        return Applied(tenant_id, loaded.version, inserted is not None, active != loaded.version)

    async def revision(self) -> int:
        """Grows whenever any tenant's active version changes."""
        return int(await self._pool.fetchval("SELECT coalesce(max(revision), 0) FROM active_policies"))

    async def active(self) -> dict[str, LoadedPolicy]:
        """Each tenant's active policy, by tenant id."""
        rows = await self._pool.fetch(
            "SELECT a.tenant_id, v.source FROM active_policies a"
            " JOIN policy_versions v ON v.tenant_id = a.tenant_id AND v.version = a.version"
        )
        policies = {}
        for row in rows:
            try:
                policies[str(row["tenant_id"])] = load_policy(row["source"], f"stored policy of {row['tenant_id']}")
            except PolicyInvalid:
                # Valid when applied, so only a newer policy model can refuse it: that tenant falls back
                # to human review rather than stopping every tenant's decisions.
                log.exception("the active policy of tenant %s no longer loads", row["tenant_id"])
        return policies

    async def version(self, tenant_id: str, version: str) -> LoadedPolicy:
        """A recorded version, active or not."""
        source = await self._pool.fetchval(
            "SELECT source FROM policy_versions WHERE tenant_id = $1 AND version = $2", tenant_id, version
        )
        if source is None:
            raise PolicyNotFound(f"tenant {tenant_id} has no policy version {version}")
        return load_policy(source, f"stored policy {version} of {tenant_id}")

    async def history(self, tenant_id: str) -> list[tuple[str, str, bool]]:
        """(version, created at ISO, active) for each recorded version, newest first."""
        rows = await self._pool.fetch(
            "SELECT v.version, v.created_at, a.version IS NOT NULL AS active FROM policy_versions v"
            " LEFT JOIN active_policies a ON a.tenant_id = v.tenant_id AND a.version = v.version"
            " WHERE v.tenant_id = $1 ORDER BY v.created_at DESC",
            tenant_id,
        )
        return [(row["version"], row["created_at"].isoformat(), row["active"]) for row in rows]
