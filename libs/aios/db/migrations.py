"""Schema migrations shared by every service: numbered SQL files, each applied once, in order.

Files are `migrations/NNNN_name.sql` next to this module; features add theirs with the next free
number and never edit an applied one. Each file runs in its own transaction together with the
row recording it in `aios_schema_migrations`, so a failing file leaves no trace and the next start
retries it. Every such transaction first takes one advisory lock: service instances starting
together queue behind each other and find the work done instead of running the same DDL twice.
A transaction-scoped lock cannot outlive its transaction, so a crashed runner never leaves the
database locked for the others.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from itertools import pairwise

import asyncpg

from aios.datastores import grant_statements, load_datastore_grants
from aios.db.errors import MigrationError

logger = logging.getLogger(__name__)

# Two-key advisory lock; the first key ("AIOS") keeps it apart from other users' locks.
_LOCK_KEYS = (0x41494F53, 1)

_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

_BOOKKEEPING_DDL = """
CREATE TABLE IF NOT EXISTS aios_schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)
"""


@dataclass(frozen=True)
class Migration:
    """One SQL file: its number orders it, its name is checked against what the database recorded."""

    version: int
    name: str
    sql: str = field(repr=False)

    @property
    def label(self) -> str:
        return f"{self.version:04d}_{self.name}"


def load_migrations(directory: Traversable | None = None) -> list[Migration]:
    """The `.sql` files of `directory` (default: the package's own folder), sorted by version.

    A `.sql` file not named `NNNN_name.sql`, or two files with one number, is an error rather
    than something to skip: either would silently leave a schema change unapplied.
    """
    folder = directory if directory is not None else resources.files("aios.db").joinpath("migrations")
    migrations: list[Migration] = []
    for entry in folder.iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = _FILE_NAME.match(entry.name)
        if match is None:
            raise MigrationError(f"migration file {entry.name!r} is not named NNNN_name.sql (lower case)")
        migrations.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    migrations.sort(key=lambda migration: migration.version)
    for before, after in pairwise(migrations):
        if before.version == after.version:
            raise MigrationError(f"migrations {before.label} and {after.label} share version {before.version}")
    return migrations


async def migrate(pool: asyncpg.Pool, migrations: Sequence[Migration] | None = None) -> list[Migration]:
    """Apply the migrations the database has not recorded yet; returns those this call applied.

    Safe to call on every start of every instance: already applied versions cost one query.
    """
    wanted = load_migrations() if migrations is None else sorted(migrations, key=lambda m: m.version)
    applied: list[Migration] = []
    async with pool.acquire() as conn:
        # Read first: a service's role may read the bookkeeping but create nothing, and needs nothing more.
        exists = await conn.fetchval("SELECT to_regclass('aios_schema_migrations') IS NOT NULL")
        recorded = await _recorded(conn) if exists else {}
        for migration in wanted:
            if migration.version in recorded:
                _check_name(migration, recorded[migration.version])
        pending = [migration for migration in wanted if migration.version not in recorded]
        try:
            if pending:
                async with conn.transaction():
                    await _lock(conn)
                    await conn.execute(_BOOKKEEPING_DDL)
                for migration in pending:
                    if await _apply(conn, migration):
                        applied.append(migration)
            if await _owns_database(conn):
                await _grant(conn)
        except asyncpg.InsufficientPrivilegeError as exc:
            user = await conn.fetchval("SELECT current_user")
            raise MigrationError(
                f"{len(pending)} migration(s) are not applied and role {user!r} may not apply them ({exc}): "
                "run `aios stack up` (or any `aios` admin command), which migrates as the owner"
            ) from exc
    return applied


async def _owns_database(conn: asyncpg.Connection) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT datdba = (SELECT oid FROM pg_roles WHERE rolname = current_user)"
            " FROM pg_database WHERE datname = current_database()"
        )
    )


async def _grant(conn: asyncpg.Connection) -> None:
    """Each service role's rights on this database's tables, as infra/datastore-grants.yaml declares them.

    Run by the owner after every migration run (cheap), so a new table or a new role is granted at once.
    """
    tables = {row[0] for row in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    roles = {row[0] for row in await conn.fetch("SELECT rolname FROM pg_roles")}
    statements = grant_statements(load_datastore_grants(), tables, roles)
    if not statements:
        return
    async with conn.transaction():
        await _lock(conn)
        for statement in statements:
            await conn.execute(statement)


async def _apply(conn: asyncpg.Connection, migration: Migration) -> bool:
    """Run one migration unless another instance did since we looked; True when this call ran it."""
    async with conn.transaction():
        await _lock(conn)
        name = await conn.fetchval("SELECT name FROM aios_schema_migrations WHERE version = $1", migration.version)
        if name is not None:
            _check_name(migration, name)
            return False
        try:
            await conn.execute(migration.sql)
        except asyncpg.PostgresError as exc:
            raise MigrationError(f"migration {migration.label} failed: {exc}") from exc
        await conn.execute(
            "INSERT INTO aios_schema_migrations (version, name) VALUES ($1, $2)", migration.version, migration.name
        )
    logger.info("applied migration %s", migration.label)
    return True


async def _lock(conn: asyncpg.Connection) -> None:
    await conn.execute("SELECT pg_advisory_xact_lock($1, $2)", *_LOCK_KEYS)


async def _recorded(conn: asyncpg.Connection) -> dict[int, str]:
    rows = await conn.fetch("SELECT version, name FROM aios_schema_migrations")
    return {row["version"]: row["name"] for row in rows}


def _check_name(migration: Migration, recorded_name: str) -> None:
    """A renamed or renumbered file would otherwise be taken as applied while its SQL never ran."""
    if recorded_name != migration.name:
        raise MigrationError(
            f"migration {migration.label}: the database recorded version {migration.version} as {recorded_name!r}"
        )
