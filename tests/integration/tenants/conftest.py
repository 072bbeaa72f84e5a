"""The stack's PostgreSQL with the tenant tables, and a way for sync tests to run store scenarios."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterator

import pytest

from aios.db.migrations import migrate
from aios.db.pool import open_pool
from aios.settings import ConnectionSettings
from aios.tenants.settings import TenantSettings
from aios.tenants.store import TenantStore

Scenario = Callable[[TenantStore], Awaitable[None]]
RunScenario = Callable[..., None]


@pytest.fixture(scope="session")
def postgres_dsn(connection: ConnectionSettings) -> str:
    """The stack's database, migrated once for the session."""
    dsn = connection.postgres_dsn.get_secret_value()

    async def setup() -> None:
        async with open_pool(dsn) as pool:
            await migrate(pool)

    asyncio.run(setup())
    return dsn


@pytest.fixture(scope="session")
def on_store(postgres_dsn: str) -> RunScenario:
    """`on_store(scenario, settings)` runs `await scenario(store)` in a fresh event loop and pool.

    A pool belongs to the loop that made it, so each run makes its own: no async test plugin needed.
    """

    def run(scenario: Scenario, settings: TenantSettings | None = None) -> None:
        async def main() -> None:
            async with open_pool(postgres_dsn, max_size=8) as pool:
                await scenario(TenantStore(pool, settings))

        asyncio.run(main())

    return run


@pytest.fixture
def unique(postgres_dsn: str) -> Iterator[Callable[[str], str]]:
    """Names no other test (or earlier run against the same long-lived stack) has used.

    Tenants made under these names are deleted afterwards, with their keys, sources and secrets.
    """
    made: list[str] = []

    def make(prefix: str) -> str:
        made.append(f"{prefix}-{uuid.uuid4().hex[:12]}")
        return made[-1]

    yield make

    async def clean() -> None:
        async with open_pool(postgres_dsn) as pool:
            await pool.execute("DELETE FROM tenants WHERE name = ANY($1::text[])", made)

    asyncio.run(clean())
