"""`aios reviewers`: who may sign in to the review pages of a tenant.

Passwords are stored as Argon2id hashes only. `add` reads the password from standard input
with `--password-stdin` (for scripts); otherwise it generates one and prints it once.
"""

from __future__ import annotations

import secrets
import sys

import asyncpg
import typer

from aios.db.pool import run_on_database
from aios.review.accounts import ReviewerAccounts
from aios.tenants.store import TenantStore

app = typer.Typer(no_args_is_help=True, help="Reviewer accounts of the review pages, per tenant.")

_TENANT = typer.Option(..., "--tenant", help="Tenant name or id.")
_USERNAME = typer.Option(..., "--username", help="Sign-in name: letters, digits, '.', '_', '-'.")
_STDIN = typer.Option(False, "--password-stdin", help="Read the password from the first line of standard input.")


def _password(from_stdin: bool) -> tuple[str, bool]:
    """The password, and whether it was generated (and must be shown)."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n"), False
    return secrets.token_urlsafe(18), True


@app.command("add")
def add(tenant: str = _TENANT, username: str = _USERNAME, password_stdin: bool = _STDIN) -> None:
    """Create a reviewer account for TENANT."""
    password, generated = _password(password_stdin)

    async def work(pool: asyncpg.Pool) -> str:
        found = await TenantStore(pool).resolve(tenant)
        return (await ReviewerAccounts(pool).add(found, username, password)).tenant_name

    name = run_on_database(work)
    typer.echo(f"reviewer {username} of tenant {name} created")
    if generated:
        typer.echo(f"password {password}")
        typer.echo("store it now: it cannot be shown again", err=True)


@app.command("set-password")
def set_password(tenant: str = _TENANT, username: str = _USERNAME, password_stdin: bool = _STDIN) -> None:
    """Give a reviewer a new password; their open sessions end."""
    password, generated = _password(password_stdin)

    async def work(pool: asyncpg.Pool) -> None:
        await ReviewerAccounts(pool).set_password(await TenantStore(pool).resolve(tenant), username, password)

    run_on_database(work)
    typer.echo(f"reviewer {username}: password changed")
    if generated:
        typer.echo(f"password {password}")


@app.command("list")
def list_reviewers(tenant: str = _TENANT) -> None:
    """The reviewers of TENANT."""

    async def work(pool: asyncpg.Pool) -> list[str]:
        return await ReviewerAccounts(pool).list(await TenantStore(pool).resolve(tenant))

    for username in run_on_database(work):
        typer.echo(username)


@app.command("remove")
def remove(tenant: str = _TENANT, username: str = _USERNAME) -> None:
    """Delete a reviewer (and their sessions); the items they completed keep their verdicts."""

    async def work(pool: asyncpg.Pool) -> None:
        await ReviewerAccounts(pool).remove(await TenantStore(pool).resolve(tenant), username)

    run_on_database(work)
    typer.echo(f"reviewer {username} removed")
