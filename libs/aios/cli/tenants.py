"""`aios tenants` (and their ingest quotas), `aios keys`, `aios webhooks`: who may send events, kept in PostgreSQL.

Each command opens a short-lived pool to `AIOS_POSTGRES_DSN` and applies pending migrations
first, so it works on a fresh database. New credentials are printed once and never again: only
digests of API keys are stored.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from redis.asyncio import Redis

from aios.db.pool import run_on_database
from aios.ingest.quotas import TenantQuotas
from aios.settings import ConnectionSettings
from aios.tenants.store import KEY_ROLES, SENDER, Tenant, TenantStore

tenants_app = typer.Typer(no_args_is_help=True, help="Create and list tenants; a new tenant's API key is shown once.")
keys_app = typer.Typer(
    no_args_is_help=True, help="Rotate tenants' API keys (the previous key keeps a grace period), or revoke them now."
)
webhooks_app = typer.Typer(
    no_args_is_help=True, help="Register webhook sources, rotate their signing secrets, or revoke them now."
)

T = TypeVar("T")

_JSON = typer.Option(False, "--json", help="One JSON object, for scripts.")
_SHOWN_ONCE = "store it now: it cannot be shown again"


def _with_store(work: Callable[[TenantStore], Awaitable[T]]) -> T:
    return run_on_database(lambda pool: work(TenantStore(pool)))


def resolve_tenant(tenant: str) -> Tenant:
    """The tenant named or identified by `tenant`; an unknown one is a clear error."""
    return _with_store(lambda store: store.resolve(tenant))


@tenants_app.command("create")
def create_tenant(
    name: str = typer.Argument(..., help="Unique tenant name: letters, digits, '.', '_', '-'."),
    as_json: bool = _JSON,
) -> None:
    """Create a tenant and print its first API key."""
    issued = _with_store(lambda store: store.create_tenant(name))
    if as_json:
        typer.echo(json.dumps(dataclasses.asdict(issued)))
        return
    typer.echo(f"tenant   {issued.name} ({issued.tenant_id})")
    typer.echo(f"api key  {issued.api_key}")
    typer.echo(_SHOWN_ONCE, err=True)


@tenants_app.command("list")
def list_tenants(as_json: bool = _JSON) -> None:
    """Every tenant with its id."""
    tenants = _with_store(lambda store: store.tenants())
    if as_json:
        typer.echo(json.dumps([dataclasses.asdict(tenant) for tenant in tenants]))
        return
    for tenant in tenants:
        typer.echo(f"{tenant.tenant_id}  {tenant.name}")


@tenants_app.command("quota")
def set_quota(
    tenant: str = typer.Argument(..., help="Tenant name or id."),
    rate: float = typer.Option(..., "--rate", min=0.001, help="Sustained events per second."),
    burst: int = typer.Option(..., "--burst", min=1, help="Events the tenant may send at once above the rate."),
) -> None:
    """Override the tenant's ingest quota; every ingest instance applies it from the next request."""
    found = resolve_tenant(tenant)

    async def main() -> None:
        redis = Redis.from_url(ConnectionSettings().redis_url)
        try:
            await TenantQuotas(redis, rate, burst).set_limits(found.tenant_id, rate, burst)
        finally:
            await redis.aclose()

    asyncio.run(main())
    typer.echo(f"tenant   {found.name} ({found.tenant_id}): {rate:g}/s, burst {burst}")


@keys_app.command("rotate")
def rotate_key(
    tenant: str = typer.Argument(..., help="Tenant name or id."),
    as_json: bool = _JSON,
) -> None:
    """Issue a new API key; the previous one keeps working for AIOS_TENANTS_KEY_GRACE_S seconds."""
    issued = _with_store(lambda store: store.rotate_key(tenant))
    if as_json:
        typer.echo(json.dumps(dataclasses.asdict(issued)))
        return
    typer.echo(f"tenant   {issued.name} ({issued.tenant_id})")
    typer.echo(f"api key  {issued.api_key}")
    typer.echo(_SHOWN_ONCE, err=True)


@keys_app.command("revoke")
def revoke_keys(
    tenant: str = typer.Argument(..., help="Tenant name or id."),
    key: str | None = typer.Option(None, "--key", help="Only this API key (default: every key of the role)."),
    role: str = typer.Option(SENDER, "--role", help=f"Keys of this role: {', '.join(KEY_ROLES)}."),
) -> None:
    """End the tenant's API keys now, grace periods included; ingest and audit stop taking them at once.

    `aios keys rotate` then issues a new one.
    """
    revoked = _with_store(lambda store: store.revoke_keys(tenant, role, key))
    typer.echo(f"revoked {revoked} {role} key(s) of tenant {tenant}")
    if key is not None and not revoked:
        raise typer.Exit(1)


@webhooks_app.command("revoke")
def revoke_webhook(source: str = typer.Argument(..., help="Source name, as in /v1/webhooks/SOURCE.")) -> None:
    """End every signing secret of the source now; its requests get 401 until `aios webhooks add` issues a new one."""
    revoked = _with_store(lambda store: store.revoke_webhook_secrets(source))
    typer.echo(f"revoked {revoked} signing secret(s) of webhook source {source}")
    if not revoked:
        raise typer.Exit(1)


@webhooks_app.command("add")
def add_webhook(
    source: str = typer.Argument(..., help="Source name, as in /v1/webhooks/SOURCE."),
    tenant: str = typer.Option(..., "--tenant", help="Tenant name or id that owns the source."),
    as_json: bool = _JSON,
) -> None:
    """Register a source with a new signing secret; again for the same source rotates its secret."""
    issued = _with_store(lambda store: store.add_webhook_source(source, tenant))
    if as_json:
        typer.echo(json.dumps(dataclasses.asdict(issued)))
        return
    typer.echo(f"source   {issued.source} (tenant {issued.tenant_id})")
    typer.echo(f"secret   {issued.secret}")
    typer.echo(_SHOWN_ONCE, err=True)
