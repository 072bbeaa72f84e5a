"""Running one coroutine against a test's database from synchronous test code."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg

from aios.db.pool import open_pool

T = TypeVar("T")


def call_database(dsn: str, work: Callable[[asyncpg.Pool], Awaitable[T]]) -> T:
    async def run() -> T:
        async with open_pool(dsn, max_size=2) as pool:
            return await work(pool)

    return asyncio.run(run())
