"""The migration runner against real PostgreSQL, each test on a database of its own.

A fresh database per test means every run starts from an empty schema and the shared `aios`
database, which other tests and the demo use, is never touched.
"""

from __future__ import annotations

import asyncio

import pytest

from aios.db.errors import MigrationError
from aios.db.migrations import Migration, load_migrations, migrate
from aios.db.pool import open_pool


async def _recorded(dsn: str) -> list[tuple[int, str]]:
    async with open_pool(dsn) as pool:
        rows = await pool.fetch("SELECT version, name FROM aios_schema_migrations ORDER BY version")
    return [(row["version"], row["name"]) for row in rows]


def test_fresh_database_gets_every_migration_once(empty_database: str) -> None:
    async def scenario() -> tuple[list[Migration], list[Migration], list[str]]:
        async with open_pool(empty_database) as pool:
            first = await migrate(pool)
            second = await migrate(pool)
            tables = await pool.fetch(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name"
            )
        return first, second, [row["table_name"] for row in tables]

    first, second, tables = asyncio.run(scenario())

    assert first == load_migrations()
    assert second == []
    assert asyncio.run(_recorded(empty_database)) == [(m.version, m.name) for m in first]
    assert {"aios_schema_migrations", "tenants", "api_keys", "webhook_sources", "webhook_secrets"} <= set(tables)


def test_concurrent_runners_apply_each_migration_exactly_once(empty_database: str) -> None:
    # Plain CREATE TABLE and INSERT: a second run of either would fail or leave a second row.
    migrations = [
        *load_migrations(),
        Migration(9001, "slow_table", "SELECT pg_sleep(0.3); CREATE TABLE runs (n INTEGER)"),
        Migration(9002, "one_row", "INSERT INTO runs VALUES (1)"),
    ]

    async def runner() -> list[Migration]:
        async with open_pool(empty_database, max_size=1) as pool:
            return await migrate(pool, migrations)

    async def scenario() -> list[list[Migration]]:
        return await asyncio.gather(*(runner() for _ in range(4)))

    results = asyncio.run(scenario())

    applied = [migration.version for result in results for migration in result]
    assert sorted(applied) == [m.version for m in migrations]
    assert asyncio.run(_recorded(empty_database)) == [(m.version, m.name) for m in migrations]

    async def rows() -> int:
        async with open_pool(empty_database) as pool:
            return int(await pool.fetchval("SELECT count(*) FROM runs"))

    assert asyncio.run(rows()) == 1


def test_failed_migration_leaves_no_trace_and_is_retried(empty_database: str) -> None:
    good = Migration(1, "good", "CREATE TABLE a (x INTEGER)")
    bad = Migration(2, "bad", "CREATE TABLE b (x INTEGER); SELECT * FROM no_such_table")
    fixed = Migration(2, "bad", "CREATE TABLE b (x INTEGER)")

    async def scenario() -> tuple[bool, list[Migration]]:
        async with open_pool(empty_database) as pool:
            with pytest.raises(MigrationError, match="0002_bad"):
                await migrate(pool, [good, bad])
            b_exists = await pool.fetchval("SELECT to_regclass('b') IS NOT NULL")
            assert await pool.fetchval("SELECT to_regclass('a') IS NOT NULL")
            return b_exists, await migrate(pool, [good, fixed])

    b_exists, retried = asyncio.run(scenario())

    assert not b_exists
    assert retried == [fixed]
    assert asyncio.run(_recorded(empty_database)) == [(1, "good"), (2, "bad")]


def test_a_renamed_migration_is_refused(empty_database: str) -> None:
    async def scenario() -> None:
        async with open_pool(empty_database) as pool:
            await migrate(pool, [Migration(1, "first", "SELECT 1")])
            with pytest.raises(MigrationError, match="'first'"):
                await migrate(pool, [Migration(1, "renamed", "SELECT 1")])

    asyncio.run(scenario())
