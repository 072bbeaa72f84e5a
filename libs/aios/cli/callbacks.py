"""`aios tenants callback`: where every final outcome of a tenant's events is POSTed (signed), kept in PostgreSQL."""

from __future__ import annotations

import dataclasses
import json

import typer
from pydantic import AnyHttpUrl, TypeAdapter, ValidationError

from aios.db.pool import run_on_database
from aios.outcomes.callbacks import CallbackStore

app = typer.Typer(
    no_args_is_help=True,
    help="Register a tenant's outcome callback URL (every final outcome is POSTed to it, signed) or remove it.",
)

_URL = TypeAdapter(AnyHttpUrl)


@app.command("set")
def set_callback(
    tenant: str = typer.Argument(..., help="Tenant name or id."),
    url: str = typer.Argument(..., help="http(s) URL that receives each final outcome as JSON."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object, for scripts."),
) -> None:
    """Set TENANT's callback URL with a new signing secret (printed once); again replaces both."""
    try:
        _URL.validate_python(url)
    except ValidationError:
        raise typer.BadParameter(f"{url!r} is not an http(s) URL", param_hint="URL") from None
    issued = run_on_database(lambda pool: CallbackStore(pool).register(tenant, url))
    if as_json:
        typer.echo(json.dumps(dataclasses.asdict(issued)))
        return
    typer.echo(f"callback  {issued.url} (tenant {issued.tenant_id})")
    typer.echo(f"secret    {issued.secret}")
    typer.echo("store it now: it cannot be shown again; verify AIOS-Signature with it", err=True)


@app.command("remove")
def remove_callback(tenant: str = typer.Argument(..., help="Tenant name or id.")) -> None:
    """Stop calling TENANT back; outcomes not yet delivered are dropped."""
    if not run_on_database(lambda pool: CallbackStore(pool).remove(tenant)):
        typer.echo(f"tenant {tenant} has no callback")
        raise typer.Exit(1)
    typer.echo(f"callback of tenant {tenant} removed")
