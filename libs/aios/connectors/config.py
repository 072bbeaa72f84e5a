"""Per-tenant connector configuration in PostgreSQL (`connector_configs`), cached briefly by executors.

Secrets in it (webhook signing secrets, API tokens, SMTP passwords) never reach the table in clear:
each configuration is stored as `{"sealed": ...}`, sealed under its tenant's data key
(`aios.keys.envelope`) and bound to its tenant and connector. Rows written before that are read as
they are until `aios secrets seal` (or `rotate-kek`) seals them.
"""

from __future__ import annotations

import json
import time
from typing import Any

import asyncpg

from aios.keys.envelope import DataKeys

SEALED_KEY = "sealed"


def _aad(tenant_id: str, connector: str) -> str:
    return f"connector_configs:{tenant_id}:{connector}"


class ConnectorConfigs:
    def __init__(self, pool: asyncpg.Pool, cache_s: float = 5.0, data_keys: DataKeys | None = None) -> None:
        self._pool = pool
        self.cache_s = cache_s
        self._data_keys = data_keys or DataKeys(pool)
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
        config = await self._open(tenant_id, connector, raw) if raw is not None else {}
        self._cache[key] = (time.monotonic() + self.cache_s, config)
        return config

    async def set(self, tenant_id: str, connector: str, config: dict[str, Any]) -> None:
        await self._pool.execute(
            "INSERT INTO connector_configs (tenant_id, connector, config) VALUES ($1, $2, $3::jsonb)"
            " ON CONFLICT (tenant_id, connector) DO UPDATE SET config = excluded.config, updated_at = now()",
            tenant_id,
            connector,
            await self._seal(tenant_id, connector, config),
        )
        self._cache.pop((tenant_id, connector), None)

    async def _seal(self, tenant_id: str, connector: str, config: dict[str, Any]) -> str:
        sealed = await self._data_keys.seal(tenant_id, json.dumps(config), _aad(tenant_id, connector))
        return json.dumps({SEALED_KEY: sealed})

    async def _open(self, tenant_id: str, connector: str, raw: str) -> dict[str, Any]:
        stored: dict[str, Any] = json.loads(raw)
        if set(stored) != {SEALED_KEY}:
            return stored  # written before configurations were sealed
        opened: dict[str, Any] = json.loads(await self._data_keys.open(stored[SEALED_KEY], _aad(tenant_id, connector)))
        return opened

    async def seal_plaintext(self) -> int:
        """Seal the configurations stored before they were encrypted; how many."""
        sealed = 0
        for row in await self._pool.fetch("SELECT tenant_id, connector, config FROM connector_configs"):
            if set(json.loads(row["config"])) == {SEALED_KEY}:
                continue
            value = await self._seal(row["tenant_id"], row["connector"], json.loads(row["config"]))
            status = await self._pool.execute(
                "UPDATE connector_configs SET config = $3::jsonb WHERE tenant_id = $1 AND connector = $2"
                " AND config = $4::jsonb",
                row["tenant_id"],
                row["connector"],
                value,
                row["config"],
            )
            sealed += status.endswith(" 1")
        return sealed

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
        return {row["connector"]: await self._open(tenant_id, row["connector"], row["config"]) for row in rows}
