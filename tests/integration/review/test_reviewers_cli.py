"""`aios reviewers` on a private migrated database (Typer's runner; one real process for the error path)."""

from __future__ import annotations

import asyncio

from typer.testing import CliRunner, Result

from aios.cli.reviewers import app
from aios.db.pool import open_pool
from aios.review.accounts import ReviewerAccounts
from aios.review.errors import ReviewerExists, WeakPassword
from aios.tenants.errors import TenantNotFoundError
from aios.tenants.store import TenantStore
from tests.support.cli import aios


def reviewers(dsn: str, *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(app, list(args), input=stdin, env={"AIOS_POSTGRES_DSN": dsn})


def test_reviewers_add_list_password_remove(migrated_database: str) -> None:
    dsn = migrated_database

    async def create() -> None:
        async with open_pool(dsn) as pool:
            await TenantStore(pool).create_tenant("acme")

    async def signs_in(username: str, secret: str) -> bool:
        async with open_pool(dsn) as pool:
            return await ReviewerAccounts(pool).authenticate("acme", username, secret) is not None

    asyncio.run(create())
    added = reviewers(
        dsn, "add", "--tenant", "acme", "--username", "alice", "--password-stdin", stdin="a long enough password\n"
    )
    assert added.exit_code == 0, added.output
    assert added.stdout.strip() == "reviewer alice of tenant acme created"  # a given password is never printed
    assert asyncio.run(signs_in("alice", "a long enough password"))

    generated = reviewers(dsn, "add", "--tenant", "acme", "--username", "carol")
    assert generated.exit_code == 0, generated.output
    password = generated.stdout.split("password ", 1)[1].split()[0]
    assert len(password) >= 20 and "cannot be shown again" in generated.stderr
    assert asyncio.run(signs_in("carol", password))

    again = reviewers(dsn, "add", "--tenant", "acme", "--username", "alice", "--password-stdin", stdin="x" * 20)
    assert isinstance(again.exception, ReviewerExists)
    weak = reviewers(dsn, "add", "--tenant", "acme", "--username", "dave", "--password-stdin", stdin="short\n")
    assert isinstance(weak.exception, WeakPassword)
    unknown = reviewers(dsn, "add", "--tenant", "nope", "--username", "eve")
    assert isinstance(unknown.exception, TenantNotFoundError)
    assert reviewers(dsn, "list", "--tenant", "acme").stdout.split() == ["alice", "carol"]

    changed = reviewers(
        dsn, "set-password", "--tenant", "acme", "--username", "alice", "--password-stdin", stdin="a brand new password"
    )
    assert changed.exit_code == 0, changed.output
    assert not asyncio.run(signs_in("alice", "a long enough password"))
    assert asyncio.run(signs_in("alice", "a brand new password"))
    assert reviewers(dsn, "remove", "--tenant", "acme", "--username", "carol").exit_code == 0
    assert not asyncio.run(signs_in("carol", password))

    # As a user sees a refusal: one line on stderr, exit status 1.
    refused = aios("reviewers", "add", "--tenant", "acme", "--username", "alice", env={"AIOS_POSTGRES_DSN": dsn})
    assert refused.returncode == 1
    assert "tenant acme already has a reviewer named 'alice'" in refused.stderr
