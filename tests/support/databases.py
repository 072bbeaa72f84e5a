"""Private PostgreSQL databases for fixtures wider than one test (the `migrated_database` fixture is per test)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import asyncpg

from aios.db.migrations import migrate
from aios.db.pool import open_pool


@contextmanager
def scratch_database(shared_dsn: str) -> Iterator[str]:
    """DSN of a new database with every migration applied; dropped afterwards."""
    name = f"aios_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_execute(shared_dsn, f"CREATE DATABASE {name}"))
    dsn = urlsplit(shared_dsn)._replace(path=f"/{name}").geturl()
    try:

        async def prepare() -> None:
            async with open_pool(dsn, max_size=1) as pool:
                await migrate(pool)

        asyncio.run(prepare())
        yield dsn
    finally:
        asyncio.run(_execute(shared_dsn, f"DROP DATABASE {name} WITH (FORCE)"))


async def _execute(dsn: str, sql: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()
