"""`aios connectors`: configurations are checked, stored per tenant, shown with secrets masked."""

from __future__ import annotations

import json
import uuid

from tests.support.cli import aios


def test_set_show_and_remove_a_tenants_connectors(migrated_database: str) -> None:
    env = {"AIOS_POSTGRES_DSN": migrated_database}
    name = f"acme-{uuid.uuid4().hex[:6]}"
    created = aios("tenants", "create", name, "--json", env=env)
    assert created.returncode == 0, created.stderr
    tenant_id = json.loads(created.stdout)["tenant_id"]

    webhook = aios(
        "connectors", "set", "--tenant", name, "--connector", "webhook", "--url", "https://hooks.example/aios",
        "--new-secret", "--header", "X-Team=claims", "--attempts", "3", "--timeout-s", "2", env=env,
    )  # fmt: skip
    assert webhook.returncode == 0, webhook.stderr
    secret = next(line.split()[1] for line in webhook.stdout.splitlines() if line.startswith("secret"))
    assert secret.startswith("whsec_") and "cannot be shown again" in webhook.stderr
    email = aios(
        "connectors", "set", "--tenant", tenant_id, "--connector", "email",
        "--set", "host=127.0.0.1", "--set", "port=2525", "--set", "sender=aios@bank.test", env=env,
    )  # fmt: skip
    assert email.returncode == 0, email.stderr

    shown = aios("connectors", "show", "--tenant", name, "--json", env=env)
    assert shown.returncode == 0, shown.stderr
    connectors = json.loads(shown.stdout)["connectors"]
    assert connectors["webhook"]["config"]["url"] == "https://hooks.example/aios"
    assert secret not in shown.stdout, "secrets are masked"
    assert (connectors["webhook"]["policy"]["attempts"], connectors["webhook"]["policy"]["timeout_s"]) == (3, 2.0)
    assert connectors["email"]["config"]["port"] == 2525 and connectors["email"]["policy"]["attempts"] == 6

    removed = aios("connectors", "remove", "--tenant", name, "--connector", "email", env=env)
    assert removed.returncode == 0, removed.stderr
    assert set(json.loads(aios("connectors", "show", "--tenant", name, "--json", env=env).stdout)["connectors"]) == {
        "webhook"
    }


def test_invalid_configurations_are_refused_with_the_reason(migrated_database: str) -> None:
    env = {"AIOS_POSTGRES_DSN": migrated_database}
    name = f"acme-{uuid.uuid4().hex[:6]}"
    assert aios("tenants", "create", name, env=env).returncode == 0
    bad_url = aios("connectors", "set", "--tenant", name, "--connector", "webhook", "--url", "nowhere", env=env)
    assert bad_url.returncode == 1 and "url" in bad_url.stderr and "URL" in bad_url.stderr
    unknown = aios("connectors", "set", "--tenant", name, "--connector", "crm", env=env)
    assert unknown.returncode == 1 and "unknown connector 'crm'" in unknown.stderr
    no_tenant = aios("connectors", "show", "--tenant", "nobody-here", env=env)
    assert no_tenant.returncode == 1 and "nobody-here" in no_tenant.stderr
    assert json.loads(aios("connectors", "show", "--tenant", name, "--json", env=env).stdout)["connectors"] == {}
