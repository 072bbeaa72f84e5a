"""Per-tenant connector configuration in PostgreSQL (`connector_configs`), cached briefly by executors.

Secrets in it (webhook signing secrets, API tokens, SMTP passwords) are stored as given, like the
webhook secrets of `aios.tenants`; production should encrypt the column with a KMS-held key.
"""

from __future__ import annotations

import json
import time
from typing import Any

import asyncpg


class ConnectorConfigs:
    def __init__(self, pool: asyncpg.Pool, cache_s: float = 5.0) -> None:
        self._pool = pool
        self.cache_s = cache_s
        self._cache: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}

    async def get(self, tenant_id: str, connector: str) -> dict[str, Any]:
        """The tenant's configuration of `connector`; empty when there is none. A change applies within `cache_s`."""
        key = (tenant_id, connector)
        hit = self._cache.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        raw = await self._pool.fetchval(
            "SELECT config FROM connector_configs WHERE tenant_id = $1 AND connector = $2", tenant_id, connector
        )
        config: dict[str, Any] = json.loads(raw) if raw is not None else {}
        self._cache[key] = (time.monotonic() + self.cache_s, config)
        return config

    async def set(self, tenant_id: str, connector: str, config: dict[str, Any]) -> None:
        await self._pool.execute(
            "INSERT INTO connector_configs (tenant_id, connector, config) VALUES ($1, $2, $3::jsonb)"
            " ON CONFLICT (tenant_id, connector) DO UPDATE SET config = excluded.config, updated_at = now()",
            tenant_id,
            connector,
            json.dumps(config),
        )
        self._cache.pop((tenant_id, connector), None)

    async def remove(self, tenant_id: str, connector: str) -> bool:
        deleted = await self._pool.fetchval(
            "DELETE FROM connector_configs WHERE tenant_id = $1 AND connector = $2 RETURNING connector",
            tenant_id,
            connector,
        )
        self._cache.pop((tenant_id, connector), None)
        return deleted is not None

    async def for_tenant(self, tenant_id: str) -> dict[str, dict[str, Any]]:
        rows = await self._pool.fetch(
            "SELECT connector, config FROM connector_configs WHERE tenant_id = $1 ORDER BY connector", tenant_id
        )
        return {row["connector"]: json.loads(row["config"]) for row in rows}
