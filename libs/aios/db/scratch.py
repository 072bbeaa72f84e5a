"""Throw-away databases on the same server: benchmarks and tests that must not see each other's rows."""

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
def scratch_database(shared_dsn: str, prefix: str = "aios_scratch", *, migrated: bool = True) -> Iterator[str]:
    """DSN of a new database on `shared_dsn`'s server (with every migration applied unless not `migrated`).

    Dropped on exit, connections and all.
    """
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    asyncio.run(_execute(shared_dsn, f"CREATE DATABASE {name}"))
    dsn = urlsplit(shared_dsn)._replace(path=f"/{name}").geturl()
    try:
        if migrated:
            asyncio.run(_migrate(dsn))
        yield dsn
    finally:
        asyncio.run(_execute(shared_dsn, f"DROP DATABASE {name} WITH (FORCE)"))


async def _migrate(dsn: str) -> None:
    async with open_pool(dsn, max_size=1) as pool:
        await migrate(pool)


async def _execute(dsn: str, sql: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()
