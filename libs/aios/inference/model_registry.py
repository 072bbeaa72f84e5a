"""Model registry: versions and aliases in PostgreSQL, artifacts behind an `ArtifactStore`.

Versions are immutable and numbered per name; aliases (`production`, `canary`, `shadow`, optionally
per tenant) move. Every alias write takes a fresh value from one sequence, so a worker learns that
something was promoted from `aliases_revision()` alone and reloads only then (poll every few seconds).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol

import asyncpg

from aios.inference.errors import ArtifactError, ModelNotFoundError

Alias = Literal["production", "canary", "shadow"]
ALIASES: tuple[str, ...] = ("production", "canary", "shadow")


class ArtifactStore(Protocol):
    """Where artifact folders live; an object store implements the same two calls."""

    def put(self, name: str, version: int, folder: Path) -> str:
        """Store the files of `folder`; return the URI recorded in the registry."""
        ...

    def fetch(self, uri: str) -> Path:
        """A local folder holding the artifact of `uri` (downloaded first if remote)."""
        ...


class LocalArtifactStore:
    """Artifacts as folders `<root>/<name>/<version>/`, URIs `file://...`."""

    def __init__(self, root_dir: Path) -> None:
        self.root_dir = Path(root_dir)

    def put(self, name: str, version: int, folder: Path) -> str:
        target = self.root_dir / name / str(version)
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(folder, target)
        return target.resolve().as_uri()

    def fetch(self, uri: str) -> Path:
        if not uri.startswith("file://"):
            raise ArtifactError(f"LocalArtifactStore cannot fetch {uri!r}")
        path = Path(uri.removeprefix("file://"))
        if not path.is_dir():
            raise ArtifactError(f"artifact folder {path} is missing")
        return path


@dataclass(frozen=True)
class ModelVersion:
    name: str
    version: int
    artifact_uri: str
    data_sha256: str
    metrics: dict[str, Any]
    labels: list[str]
    created_at: datetime
    artifact_sha256: str | None = None
    """SHA-256 of the artifact's files (`aios.inference.integrity`); None for versions registered before."""


@dataclass(frozen=True)
class AliasRow:
    name: str
    alias: str
    tenant: str | None
    version: int
    share: float
    revision: int
    updated_at: datetime
    retired: bool = False


class ModelRegistry:
    """Async access to `model_versions` and `model_aliases` (migrations 0002, 0003)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def register(
        self,
        name: str,
        artifact_uri_for: Any,
        data_sha256: str,
        metrics: dict[str, Any],
        labels: list[str],
        artifact_sha256: str,
    ) -> ModelVersion:
        """Insert the next version of `name`; `artifact_uri_for(version)` stores the files and returns the URI;
        `artifact_sha256` is what every load checks the stored files against.

        The per-name advisory lock keeps two trainers from taking the same number.
        """
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('aios.model:' || $1))", name)
            version = await conn.fetchval(
                "SELECT coalesce(max(version), 0) + 1 FROM model_versions WHERE name = $1", name
            )
            uri = artifact_uri_for(version)
            row = await conn.fetchrow(
                "INSERT INTO model_versions"
                " (name, version, artifact_uri, data_sha256, metrics, labels, artifact_sha256)"
                " VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7) RETURNING *",
                name,
                version,
                uri,
                data_sha256,
                json.dumps(metrics),
                labels,
                artifact_sha256,
            )
        return _version(row)

    async def versions(self, name: str | None = None) -> list[ModelVersion]:
        rows = await self._pool.fetch(
            "SELECT * FROM model_versions WHERE $1::text IS NULL OR name = $1 ORDER BY name, version", name
        )
        return [_version(row) for row in rows]

    async def get(self, name: str, version: int) -> ModelVersion:
        row = await self._pool.fetchrow("SELECT * FROM model_versions WHERE name = $1 AND version = $2", name, version)
        if row is None:
            raise ModelNotFoundError(f"model {name}:{version} is not registered")
        return _version(row)

    async def promote(
        self, name: str, version: int, alias: str, *, share: float = 1.0, tenant: str | None = None
    ) -> AliasRow:
        """Point `alias` (for `tenant`, or globally) at `version`; bumps the alias revision."""
        if alias not in ALIASES:
            raise ModelNotFoundError(f"alias must be one of {', '.join(ALIASES)}, not {alias!r}")
        await self.get(name, version)
        row = await self._pool.fetchrow(
            "INSERT INTO model_aliases (name, alias, tenant, version, share) VALUES ($1, $2, $3, $4, $5)"
            " ON CONFLICT (name, alias, tenant) DO UPDATE SET version = EXCLUDED.version, share = EXCLUDED.share,"
            " retired = false, revision = nextval('model_alias_revision'), updated_at = now() RETURNING *",
            name,
            alias,
            tenant,
            version,
            share,
        )
        return _alias(row)

    async def aliases(self, name: str | None = None) -> list[AliasRow]:
        rows = await self._pool.fetch(
            "SELECT * FROM model_aliases WHERE NOT retired AND ($1::text IS NULL OR name = $1)"
            " ORDER BY name, alias, tenant NULLS FIRST",
            name,
        )
        return [_alias(row) for row in rows]

    async def resolve(self, name: str, alias: str = "production", tenant: str | None = None) -> ModelVersion:
        """The version an alias points at: the tenant's own alias first, else the global one."""
        row = await self._pool.fetchrow(
            "SELECT version FROM model_aliases WHERE name = $1 AND alias = $2 AND (tenant = $3 OR tenant IS NULL)"
            " AND NOT retired"
            " ORDER BY tenant NULLS LAST LIMIT 1",
            name,
            alias,
            tenant,
        )
        if row is None:
            raise ModelNotFoundError(f"model {name!r} has no {alias} alias")
        return await self.get(name, row["version"])

    async def retire(self, name: str, alias: str, *, tenant: str | None = None) -> AliasRow:
        """Remove an alias (for `tenant`, or the global one); bumps the alias revision like a promotion."""
        row = await self._pool.fetchrow(
            "UPDATE model_aliases SET retired = true, revision = nextval('model_alias_revision'), updated_at = now()"
            " WHERE name = $1 AND alias = $2 AND tenant IS NOT DISTINCT FROM $3 AND NOT retired RETURNING *",
            name,
            alias,
            tenant,
        )
        if row is None:
            raise ModelNotFoundError(f"model {name!r} has no {alias} alias{f' for tenant {tenant}' if tenant else ''}")
        return _alias(row)

    async def aliases_revision(self) -> int:
        """Grows whenever any alias changes; compare with the value seen at the last load."""
        return int(await self._pool.fetchval("SELECT coalesce(max(revision), 0) FROM model_aliases"))

    async def changed_since(self, revision: int) -> list[AliasRow]:
        """Alias rows written after `revision`, retired ones included."""
        rows = await self._pool.fetch("SELECT * FROM model_aliases WHERE revision > $1 ORDER BY revision", revision)
        return [_alias(row) for row in rows]


def parse_ref(ref: str) -> tuple[str, int | None]:
    """`NAME` or `NAME:VERSION`."""
    name, _, version = ref.partition(":")
    if not version:
        return name, None
    if not version.isdigit():
        raise ModelNotFoundError(f"version in {ref!r} must be a positive integer")
    return name, int(version)


def _version(row: asyncpg.Record) -> ModelVersion:
    metrics = row["metrics"]
    return ModelVersion(
        row["name"],
        row["version"],
        row["artifact_uri"],
        row["data_sha256"],
        json.loads(metrics) if isinstance(metrics, str) else dict(metrics),
        list(row["labels"]),
        row["created_at"],
        row["artifact_sha256"],
    )


def _alias(row: asyncpg.Record) -> AliasRow:
    return AliasRow(
        row["name"],
        row["alias"],
        row["tenant"],
        row["version"],
        row["share"],
        row["revision"],
        row["updated_at"],
        row["retired"],
    )
