"""Connection pools opened one way, so an unreachable PostgreSQL reads the same in every command."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

import asyncpg

from aios.db.errors import DatabaseUnavailableError
from aios.db.migrations import migrate
from aios.settings import ConnectionSettings

T = TypeVar("T")

_CONNECT_ERRORS: tuple[type[Exception], ...] = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)

UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.InterfaceError,
    DatabaseUnavailableError,
)
"""PostgreSQL cannot be reached right now (not a bad query): consumers retry the batch rather than dead-letter it."""


async def create_pool(dsn: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    """A pool with `min_size` connections already open, so a bad DSN fails here and not later.

    The message leaves the DSN out: it may hold a password.
    """
    try:
        return await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size)
    except _CONNECT_ERRORS as exc:
        raise DatabaseUnavailableError(f"cannot connect to PostgreSQL (AIOS_POSTGRES_DSN): {exc}") from exc


@asynccontextmanager
async def open_pool(dsn: str, *, min_size: int = 1, max_size: int = 10) -> AsyncIterator[asyncpg.Pool]:
    """`create_pool` for a block of work; the pool is closed when the block ends."""
    pool = await create_pool(dsn, min_size=min_size, max_size=max_size)
    try:
        yield pool
    finally:
        await pool.close()


def run_on_database(work: Callable[[asyncpg.Pool], Awaitable[T]], dsn: str | None = None, max_size: int = 2) -> T:
    """For commands: migrate the database (default `AIOS_POSTGRES_DSN`), run `work` on a short-lived pool, close it."""

    async def main() -> T:
        async with open_pool(dsn or ConnectionSettings().postgres_dsn.get_secret_value(), max_size=max_size) as pool:
            await migrate(pool)
            return await work(pool)

    return asyncio.run(main())
