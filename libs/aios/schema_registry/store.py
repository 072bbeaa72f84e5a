"""PostgreSQL persistence of subjects, versions, schemas and compatibility config.

Everything lives in the `registry` PostgreSQL schema so the tables never collide with other
services sharing the database. Writes to a subject run in one transaction holding a per-subject
advisory lock: concurrent registrations then see each other's versions instead of both taking
the same number.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg

from aios.schema_registry.compatibility import (
    CompatibilityLevel,
    ParsedSchema,
    check_compatibility,
    parse_schema,
)
from aios.schema_registry.errors import (
    IncompatibleSchemaError,
    SchemaNotFoundError,
    SubjectCompatibilityNotConfiguredError,
    SubjectNotFoundError,
    SubjectNotSoftDeletedError,
    SubjectSoftDeletedError,
    VersionNotFoundError,
    VersionNotSoftDeletedError,
    VersionSoftDeletedError,
)

logger = logging.getLogger(__name__)

BACKEND_ERRORS: tuple[type[Exception], ...] = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    OSError,
    TimeoutError,
)
"""What a lost or failing PostgreSQL raises; the API answers them with 5xx, not a crash."""

# First key of the two-key advisory locks, so ours cannot meet another service's locks.
_MIGRATION_LOCK = 0x52470001
_SUBJECT_LOCK = 0x52470002

_DDL = """
CREATE SCHEMA IF NOT EXISTS registry;
CREATE TABLE IF NOT EXISTS registry.schemas (
    id SERIAL PRIMARY KEY,
    fingerprint TEXT NOT NULL UNIQUE,
    canonical TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS registry.subject_versions (
    subject TEXT NOT NULL,
    version INTEGER NOT NULL CHECK (version > 0),
    schema_id INTEGER NOT NULL REFERENCES registry.schemas (id),
    deleted BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (subject, version)
);
CREATE INDEX IF NOT EXISTS subject_versions_schema_id ON registry.subject_versions (schema_id);
CREATE TABLE IF NOT EXISTS registry.config (
    subject TEXT,
    compatibility TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS config_subject ON registry.config (subject)
    WHERE subject IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS config_global ON registry.config ((subject IS NULL))
    WHERE subject IS NULL;
"""

_SUBJECT_ROWS = """
SELECT v.version, v.schema_id, v.deleted, s.fingerprint, s.canonical
FROM registry.subject_versions v JOIN registry.schemas s ON s.id = v.schema_id
WHERE v.subject = $1
ORDER BY v.version
"""


@dataclass(frozen=True)
class SubjectVersion:
    """One version of a subject, shaped like Confluent's `{subject, version, id, schema}`."""

    subject: str
    version: int
    schema_id: int
    schema: str


def _live(rows: Sequence[asyncpg.Record]) -> list[asyncpg.Record]:
    return [row for row in rows if not row["deleted"]]


class RegistryStore:
    """The registry's state; methods raise the `RegistryError`s the API reports to clients."""

    def __init__(self, pool: asyncpg.Pool, default_level: CompatibilityLevel) -> None:
        self._pool = pool
        self._default_level = default_level

    @classmethod
    async def open(cls, dsn: str, default_level: CompatibilityLevel) -> RegistryStore:
        """Connect and create the tables; a lock keeps concurrently starting replicas apart."""
        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=10)
        try:
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock($1, 0)", _MIGRATION_LOCK)
                await conn.execute(_DDL)
        except BaseException:
            await pool.close()
            raise
        return cls(pool, default_level)

    async def close(self) -> None:
        await self._pool.close()

    async def ping(self) -> None:
        """One round trip, so health reflects whether PostgreSQL answers right now."""
        async with self._pool.acquire(timeout=2) as conn:
            await conn.fetchval("SELECT 1", timeout=2)

    @asynccontextmanager
    async def _locked(self, subject: str) -> AsyncIterator[asyncpg.Connection]:
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1, hashtext($2))", _SUBJECT_LOCK, subject)
            yield conn

    # --- schemas and versions -------------------------------------------------------------

    async def register(self, subject: str, candidate: ParsedSchema) -> int:
        """The schema's id under `subject`, adding a version only when it is not there yet."""
        async with self._locked(subject) as conn:
            rows = await conn.fetch(_SUBJECT_ROWS, subject)
            live = _live(rows)
            for row in live:
                if row["fingerprint"] == candidate.fingerprint:
                    return int(row["schema_id"])
            level = await self._effective_level(conn, subject)
            reasons = check_compatibility(
                level, candidate, [(row["version"], parse_schema(row["canonical"])) for row in live]
            )
            if reasons:
                raise IncompatibleSchemaError(subject, reasons)
            schema_id = await self._schema_id(conn, candidate)
            version = max((int(row["version"]) for row in rows), default=0) + 1
            await conn.execute(
                "INSERT INTO registry.subject_versions (subject, version, schema_id) VALUES ($1, $2, $3)",
                subject,
                version,
                schema_id,
            )
        logger.info("registered %s version %d as schema id %d", subject, version, schema_id)
        return schema_id

    async def _schema_id(self, conn: asyncpg.Connection, candidate: ParsedSchema) -> int:
        """Id of the stored schema, inserting it first; reads first to not burn sequence ids."""
        select = "SELECT id FROM registry.schemas WHERE fingerprint = $1"
        schema_id = await conn.fetchval(select, candidate.fingerprint)
        if schema_id is None:
            schema_id = await conn.fetchval(
                "INSERT INTO registry.schemas (fingerprint, canonical) VALUES ($1, $2)"
                " ON CONFLICT (fingerprint) DO NOTHING RETURNING id",
                candidate.fingerprint,
                candidate.canonical,
            )
        if schema_id is None:
            # Another subject inserted the same schema concurrently and has committed since.
            schema_id = await conn.fetchval(select, candidate.fingerprint)
        return int(schema_id)

    async def lookup(self, subject: str, candidate: ParsedSchema, include_deleted: bool) -> SubjectVersion:
        """The newest version of `subject` holding exactly this schema."""
        rows = await self._pool.fetch(_SUBJECT_ROWS, subject)
        visible = rows if include_deleted else _live(rows)
        if not visible:
            raise SubjectNotFoundError(subject)
        for row in reversed(visible):
            if row["fingerprint"] == candidate.fingerprint:
                return SubjectVersion(subject, row["version"], row["schema_id"], row["canonical"])
        raise SchemaNotFoundError(f"Schema not found under subject '{subject}'.")

    async def subjects(self, prefix: str | None, include_deleted: bool, deleted_only: bool) -> list[str]:
        """Subject names; a soft-deleted subject is one whose every version is soft deleted."""
        rows = await self._pool.fetch(
            "SELECT subject FROM registry.subject_versions"
            " WHERE $1::text IS NULL OR starts_with(subject, $1)"
            " GROUP BY subject"
            " HAVING CASE WHEN $2 THEN bool_and(deleted) WHEN $3 THEN TRUE"
            " ELSE NOT bool_and(deleted) END"
            " ORDER BY subject",
            prefix,
            deleted_only,
            include_deleted,
        )
        return [row["subject"] for row in rows]

    async def versions(self, subject: str, include_deleted: bool, deleted_only: bool) -> list[int]:
        rows = await self._pool.fetch(
            "SELECT version, deleted FROM registry.subject_versions WHERE subject = $1 ORDER BY version",
            subject,
        )
        versions = [
            row["version"]
            for row in rows
            if (row["deleted"] if deleted_only else include_deleted or not row["deleted"])
        ]
        if not versions:
            raise SubjectNotFoundError(subject)
        return versions

    async def version(self, subject: str, version: int | None, include_deleted: bool) -> SubjectVersion:
        """`version` of `subject`, or its newest when None (`latest`)."""
        rows = await self._pool.fetch(_SUBJECT_ROWS, subject)
        row = self._pick_version(subject, rows if include_deleted else _live(rows), version)
        return SubjectVersion(subject, row["version"], row["schema_id"], row["canonical"])

    @staticmethod
    def _pick_version(subject: str, rows: Sequence[asyncpg.Record], version: int | None) -> asyncpg.Record:
        if not rows:
            raise SubjectNotFoundError(subject)
        if version is None:
            return rows[-1]
        for row in rows:
            if row["version"] == version:
                return row
        raise VersionNotFoundError(subject, version)

    async def schema(self, schema_id: int) -> str:
        canonical = await self._pool.fetchval("SELECT canonical FROM registry.schemas WHERE id = $1", schema_id)
        if canonical is None:
            raise SchemaNotFoundError(f"Schema {schema_id} not found.")
        return str(canonical)

    async def schema_usages(self, schema_id: int, include_deleted: bool) -> list[tuple[str, int]]:
        """The (subject, version) pairs that hold schema `schema_id`."""
        rows = await self._pool.fetch(
            "SELECT subject, version FROM registry.subject_versions"
            " WHERE schema_id = $1 AND ($2 OR NOT deleted) ORDER BY subject, version",
            schema_id,
            include_deleted,
        )
        if not rows:
            raise SchemaNotFoundError(f"Schema {schema_id} not found.")
        return [(row["subject"], row["version"]) for row in rows]

    # --- deletion ---------------------------------------------------------------------------

    async def delete_subject(self, subject: str, permanent: bool) -> list[int]:
        """Soft delete every live version, or (permanent) erase an already soft-deleted subject.

        Like Confluent, a hard delete must follow a soft one, and also drops the subject's config.
        """
        async with self._locked(subject) as conn:
            rows = await conn.fetch(_SUBJECT_ROWS, subject)
            if not rows:
                raise SubjectNotFoundError(subject)
            live = [int(row["version"]) for row in _live(rows)]
            if permanent:
                if live:
                    raise SubjectNotSoftDeletedError(subject)
                await conn.execute("DELETE FROM registry.subject_versions WHERE subject = $1", subject)
                await conn.execute("DELETE FROM registry.config WHERE subject = $1", subject)
                deleted = [int(row["version"]) for row in rows]
            else:
                if not live:
                    raise SubjectSoftDeletedError(subject)
                await conn.execute(
                    "UPDATE registry.subject_versions SET deleted = TRUE WHERE subject = $1",
                    subject,
                )
                deleted = live
        logger.info("deleted subject %s versions %s (permanent=%s)", subject, deleted, permanent)
        return deleted

    async def delete_version(self, subject: str, version: int | None, permanent: bool) -> int:
        """Soft delete a live version, or (permanent) erase a soft-deleted one; None = latest."""
        async with self._locked(subject) as conn:
            rows = await conn.fetch(_SUBJECT_ROWS, subject)
            # `latest` of a soft delete means the newest live version, of a hard one the newest.
            candidates = rows if permanent or version is not None else _live(rows)
            row = self._pick_version(subject, candidates, version)
            number = int(row["version"])
            if permanent:
                if not row["deleted"]:
                    raise VersionNotSoftDeletedError(subject, number)
                await conn.execute(
                    "DELETE FROM registry.subject_versions WHERE subject = $1 AND version = $2",
                    subject,
                    number,
                )
            else:
                if row["deleted"]:
                    raise VersionSoftDeletedError(subject, number)
                await conn.execute(
                    "UPDATE registry.subject_versions SET deleted = TRUE WHERE subject = $1 AND version = $2",
                    subject,
                    number,
                )
        logger.info("deleted %s version %d (permanent=%s)", subject, number, permanent)
        return number

    # --- compatibility ----------------------------------------------------------------------

    async def check_against_version(self, subject: str, candidate: ParsedSchema, version: int | None) -> list[str]:
        """Reasons `candidate` may not follow `version` (None: the latest, if any) per the level."""
        async with self._pool.acquire() as conn:
            rows = _live(await conn.fetch(_SUBJECT_ROWS, subject))
            if version is None and not rows:
                return []
            row = self._pick_version(subject, rows, version)
            level = await self._effective_level(conn, subject)
        return check_compatibility(level, candidate, [(row["version"], parse_schema(row["canonical"]))])

    async def check_against_subject(self, subject: str, candidate: ParsedSchema) -> list[str]:
        """Reasons `candidate` could not be registered: the versions the level says, all live."""
        async with self._pool.acquire() as conn:
            rows = _live(await conn.fetch(_SUBJECT_ROWS, subject))
            level = await self._effective_level(conn, subject)
        return check_compatibility(level, candidate, [(row["version"], parse_schema(row["canonical"])) for row in rows])

    # --- config -----------------------------------------------------------------------------

    async def _effective_level(self, conn: asyncpg.Connection, subject: str) -> CompatibilityLevel:
        """The subject's own level, else the global one, else the configured default."""
        level = await conn.fetchval(
            "SELECT compatibility FROM registry.config WHERE subject = $1 OR subject IS NULL"
            " ORDER BY subject NULLS LAST LIMIT 1",
            subject,
        )
        return self._default_level if level is None else CompatibilityLevel(level)

    async def global_level(self) -> CompatibilityLevel:
        level = await self._pool.fetchval("SELECT compatibility FROM registry.config WHERE subject IS NULL")
        return self._default_level if level is None else CompatibilityLevel(level)

    async def subject_level(self, subject: str) -> CompatibilityLevel | None:
        """The level set on `subject` itself, None when it follows the global one."""
        level = await self._pool.fetchval("SELECT compatibility FROM registry.config WHERE subject = $1", subject)
        return None if level is None else CompatibilityLevel(level)

    async def set_global_level(self, level: CompatibilityLevel) -> None:
        await self._pool.execute(
            "INSERT INTO registry.config (subject, compatibility) VALUES (NULL, $1)"
            " ON CONFLICT ((subject IS NULL)) WHERE subject IS NULL"
            " DO UPDATE SET compatibility = EXCLUDED.compatibility",
            level.value,
        )
        logger.info("global compatibility set to %s", level)

    async def set_subject_level(self, subject: str, level: CompatibilityLevel) -> None:
        await self._pool.execute(
            "INSERT INTO registry.config (subject, compatibility) VALUES ($1, $2)"
            " ON CONFLICT (subject) WHERE subject IS NOT NULL"
            " DO UPDATE SET compatibility = EXCLUDED.compatibility",
            subject,
            level.value,
        )
        logger.info("compatibility of %s set to %s", subject, level)

    async def reset_global_level(self) -> CompatibilityLevel:
        """Forget the global level (back to the default); returns the level it had."""
        level = await self._pool.fetchval("DELETE FROM registry.config WHERE subject IS NULL RETURNING compatibility")
        logger.info("global compatibility reset to the default %s", self._default_level)
        return self._default_level if level is None else CompatibilityLevel(level)

    async def delete_subject_level(self, subject: str) -> CompatibilityLevel:
        """Forget the subject's own level (it follows the global one again); returns it."""
        level = await self._pool.fetchval(
            "DELETE FROM registry.config WHERE subject = $1 RETURNING compatibility", subject
        )
        if level is None:
            raise SubjectCompatibilityNotConfiguredError(subject)
        logger.info("compatibility of %s now follows the global level", subject)
        return CompatibilityLevel(level)
