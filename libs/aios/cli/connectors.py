"""`aios connectors`: where and how the act service performs each tenant's actions.

A configuration is checked against its connector before it is stored; running act services
use it within `AIOS_ACT_CONFIG_CACHE_S`. Secrets are shown masked; a generated webhook secret is
printed once.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import httpx
import typer

from aios.cli.access import admin_action, record
from aios.cli.tenants import resolve_tenant
from aios.connectors.base import Connector
from aios.connectors.builtin import default_connectors
from aios.connectors.config import ConnectorConfigs
from aios.connectors.errors import ConnectorConfigError
from aios.db.pool import run_on_database
from aios.tenants.secrets import new_webhook_secret

app = typer.Typer(no_args_is_help=True, help="Configure the act service's connectors per tenant.")

_TENANT = typer.Option(..., "--tenant", help="Tenant name or id.")
_CONNECTOR = typer.Option(..., "--connector", help="webhook, http, erp, claims, payment, email or log.")


def _connector(name: str) -> Connector:
    connectors = default_connectors(httpx.AsyncClient())
    if name not in connectors:
        raise ConnectorConfigError(f"unknown connector {name!r}: one of {', '.join(sorted(connectors))}")
    return connectors[name]


def _pairs(values: list[str], option: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        key, sep, item = value.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{option} takes NAME=VALUE, got {value!r}")
        pairs[key] = item
    return pairs


def _json_object(text: str) -> dict[str, Any]:
    raw = Path(text[1:]).read_text() if text.startswith("@") else text
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise typer.BadParameter(f"--config is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise typer.BadParameter("--config must be a JSON object")
    return value


@app.command("set")
def set_connector(
    tenant: str = _TENANT,
    connector: str = _CONNECTOR,
    url: str | None = typer.Option(None, "--url", help="webhook: where actions are POSTed; http: the API's base URL."),
    secret: str | None = typer.Option(None, "--secret", help="webhook: the HMAC key of the AIOS-Signature header."),
    new_secret: bool = typer.Option(False, "--new-secret", help="webhook: generate a signing secret, print it once."),
    header: list[str] = typer.Option([], "--header", help="NAME=VALUE sent with every call (webhook, http)."),
    field: list[str] = typer.Option(
        [], "--set", help="KEY=VALUE of another field, e.g. email: host, port, sender, username, password, starttls."
    ),
    config: str | None = typer.Option(None, "--config", help="The whole configuration as JSON, or @FILE."),
    attempts: int | None = typer.Option(None, "--attempts", min=1, help="Retry policy: attempts in all."),
    base_delay_s: float | None = typer.Option(None, "--base-delay-s", min=0, help="Retry policy: first backoff."),
    max_delay_s: float | None = typer.Option(None, "--max-delay-s", min=0, help="Retry policy: longest backoff."),
    deadline_s: float | None = typer.Option(None, "--deadline-s", min=0.001, help="Retry policy: total deadline."),
    timeout_s: float | None = typer.Option(None, "--timeout-s", min=0.001, help="Longest one attempt may take."),
) -> None:
    """Store a tenant's configuration of one connector (replacing the previous one; admin only)."""
    principal = admin_action("connectors.set")
    found = resolve_tenant(tenant)
    chosen = _connector(connector)
    settings = _json_object(config) if config else {}
    if url is not None:
        settings["url"] = url
    if new_secret:
        secret = new_webhook_secret()
    if secret is not None:
        settings["secret"] = secret
    if header:
        settings["headers"] = {**settings.get("headers", {}), **_pairs(header, "--header")}
    settings.update(_pairs(field, "--set"))
    retry = {
        name: value
        for name, value in {
            "attempts": attempts,
            "base_delay_s": base_delay_s,
            "max_delay_s": max_delay_s,
            "deadline_s": deadline_s,
            "timeout_s": timeout_s,
        }.items()
        if value is not None
    }
    if retry:
        settings["retry"] = {**settings.get("retry", {}), **retry}
    stored = chosen.check_config(settings)
    run_on_database(lambda pool: ConnectorConfigs(pool).set(found.tenant_id, chosen.name, stored))
    # What changed, never the secrets: the configuration as `show` describes it.
    record(
        principal,
        "connectors.set",
        {"tenant": found.tenant_id, "connector": chosen.name, "config": chosen.describe_config(stored)},
    )
    typer.echo(f"tenant     {found.name} ({found.tenant_id})")
    typer.echo(f"connector  {chosen.name}: {json.dumps(chosen.describe_config(stored), sort_keys=True)}")
    if new_secret:
        typer.echo(f"secret     {secret}")
        typer.echo("store it now: it cannot be shown again", err=True)


@app.command("show")
def show(tenant: str = _TENANT, as_json: bool = typer.Option(False, "--json", help="One JSON object.")) -> None:
    """The tenant's connectors, secrets masked, with the retry policy each applies."""
    found = resolve_tenant(tenant)
    configs = run_on_database(lambda pool: ConnectorConfigs(pool).for_tenant(found.tenant_id))
    shown = {}
    for name, stored in configs.items():
        chosen = _connector(name)
        policy = dataclasses.asdict(chosen.policy(stored))
        policy["retryable_statuses"] = sorted(policy["retryable_statuses"])
        shown[name] = {"config": chosen.describe_config(stored), "policy": policy}
    if as_json:
        typer.echo(json.dumps({"tenant_id": found.tenant_id, "connectors": shown}, sort_keys=True))
        return
    typer.echo(f"tenant {found.name} ({found.tenant_id})")
    for name, item in shown.items():
        typer.echo(f"  {name:8} {json.dumps(item['config'], sort_keys=True)}")
        policy = item["policy"]
        typer.echo(
            f"  {'':8} {policy['attempts']} attempts, backoff {policy['base_delay_s']:g}-{policy['max_delay_s']:g}s,"
            f" deadline {policy['deadline_s']:g}s, timeout {policy['timeout_s']:g}s"
        )
    if not shown:
        typer.echo("  no connector configured (log needs none)")


@app.command("remove")
def remove(tenant: str = _TENANT, connector: str = _CONNECTOR) -> None:
    """Delete a tenant's configuration of a connector; its actions then fail until one is set again."""
    found = resolve_tenant(tenant)
    removed = run_on_database(lambda pool: ConnectorConfigs(pool).remove(found.tenant_id, connector))
    if not removed:
        raise ConnectorConfigError(f"tenant {found.name} has no {connector} configuration")
    typer.echo(f"removed the {connector} configuration of tenant {found.name}")
