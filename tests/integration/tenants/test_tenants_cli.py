"""`aios tenants|keys|webhooks` through Typer's test runner against the stack's PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable

import typer
from typer.testing import CliRunner

from aios.cli.tenants import keys_app, tenants_app, webhooks_app
from aios.db.errors import DatabaseUnavailableError
from aios.tenants.errors import DuplicateTenantError, WebhookSourceTakenError
from aios.tenants.store import Tenant, TenantStore, WebhookSource

Unique = Callable[[str], str]
RunScenario = Callable[..., None]

app = typer.Typer()
app.add_typer(tenants_app, name="tenants")
app.add_typer(keys_app, name="keys")
app.add_typer(webhooks_app, name="webhooks")


def aios(dsn: str, *args: str) -> dict[str, str]:
    """Run a command that must succeed with `--json`; its JSON output."""
    result = CliRunner().invoke(app, [*args, "--json"], env={"AIOS_POSTGRES_DSN": dsn})
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.stdout)


def test_create_rotate_and_list(postgres_dsn: str, on_store: RunScenario, unique: Unique) -> None:
    name = unique("tenant")
    created = aios(postgres_dsn, "tenants", "create", name)
    assert set(created) == {"tenant_id", "name", "api_key"}
    assert created["name"] == name
    rotated = aios(postgres_dsn, "keys", "rotate", name)
    assert (rotated["tenant_id"], rotated["name"]) == (created["tenant_id"], name)

    tenant = Tenant(created["tenant_id"], name)

    async def scenario(store: TenantStore) -> None:
        assert await store.tenant_for_api_key(created["api_key"]) == tenant
        assert await store.tenant_for_api_key(rotated["api_key"]) == tenant

    on_store(scenario)

    listed = CliRunner().invoke(app, ["tenants", "list"], env={"AIOS_POSTGRES_DSN": postgres_dsn})
    assert listed.exit_code == 0
    assert f"{created['tenant_id']}  {name}" in listed.stdout.splitlines()


def test_webhooks_add_and_rotate(postgres_dsn: str, on_store: RunScenario, unique: Unique) -> None:
    name, source = unique("tenant"), unique("crm")
    created = aios(postgres_dsn, "tenants", "create", name)
    first = aios(postgres_dsn, "webhooks", "add", source, "--tenant", name)
    assert first.keys() == {"source", "tenant_id", "secret"}
    assert (first["source"], first["tenant_id"]) == (source, created["tenant_id"])
    second = aios(postgres_dsn, "webhooks", "add", source, "--tenant", created["tenant_id"])

    async def scenario(store: TenantStore) -> None:
        assert await store.webhook_source(source) == WebhookSource(
            source, created["tenant_id"], (second["secret"], first["secret"])
        )

    on_store(scenario)


def test_plain_output_shows_the_new_key_once(postgres_dsn: str, unique: Unique) -> None:
    name = unique("tenant")
    result = CliRunner().invoke(app, ["tenants", "create", name], env={"AIOS_POSTGRES_DSN": postgres_dsn})
    assert result.exit_code == 0
    assert result.stdout.splitlines()[1].startswith("api key  aios_")
    assert "cannot be shown again" in result.stderr


def test_refusals_are_aios_errors_for_the_entry_point(postgres_dsn: str, unique: Unique) -> None:
    """`aios.cli.main:run` prints AiosErrors and exits 1; here they surface as the exception."""
    name, other, source = unique("tenant"), unique("tenant"), unique("crm")
    env = {"AIOS_POSTGRES_DSN": postgres_dsn}
    aios(postgres_dsn, "tenants", "create", name)
    aios(postgres_dsn, "tenants", "create", other)
    aios(postgres_dsn, "webhooks", "add", source, "--tenant", name)

    duplicate = CliRunner().invoke(app, ["tenants", "create", name], env=env)
    assert isinstance(duplicate.exception, DuplicateTenantError)
    taken = CliRunner().invoke(app, ["webhooks", "add", source, "--tenant", other], env=env)
    assert isinstance(taken.exception, WebhookSourceTakenError)
    unreachable = CliRunner().invoke(
        app, ["tenants", "list"], env={"AIOS_POSTGRES_DSN": "postgresql://aios@127.0.0.1:1/aios"}
    )
    assert isinstance(unreachable.exception, DatabaseUnavailableError)
