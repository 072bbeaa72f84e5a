"""The CLI's admin actions need an admin credential and land in the audit trail with who did them."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from aios.access.roles import issue_credential
from aios.db.scratch import scratch_database
from aios.settings import ConnectionSettings
from aios.tenants.store import TenantStore
from tests.support.cli import aios
from tests.support.database import call_database


@pytest.fixture
def dsn(connection: ConnectionSettings) -> Iterator[str]:
    with scratch_database(connection.postgres_dsn.get_secret_value()) as dsn:
        call_database(dsn, lambda pool: TenantStore(pool).create_tenant("admin-acts"))
        yield dsn


def _set_connector(dsn: str, credential: str | None):  # type: ignore[no-untyped-def]
    env = {"AIOS_POSTGRES_DSN": dsn, "AIOS_CREDENTIAL": credential or ""}
    args = ["connectors", "set", "--tenant", "admin-acts", "--connector", "webhook", "--url", "http://127.0.0.1:9/x"]
    return aios(*args, "--secret", "whsec_admin_test", env=env)


def test_admin_actions_are_refused_without_an_admin_credential(dsn: str) -> None:
    missing = _set_connector(dsn, None)
    assert missing.returncode == 1 and "connectors.set needs a credential of role admin" in missing.stderr
    operator = _set_connector(dsn, issue_credential("olga", "operator"))
    assert operator.returncode == 1 and "olga (operator) may not connectors.set" in operator.stderr
    admin = issue_credential("ada", "admin")
    forged = _set_connector(dsn, admin[:-4] + "0000")
    assert forged.returncode == 1 and "does not verify" in forged.stderr
    renamed = _set_connector(dsn, admin.replace("ada", "eve", 1))
    assert renamed.returncode == 1 and "does not verify" in renamed.stderr
    rows = call_database(dsn, lambda pool: pool.fetch("SELECT * FROM connector_configs"))
    assert rows == []


def test_an_admin_action_is_recorded_in_the_audit_trail_with_who_did_it(dsn: str) -> None:
    done = _set_connector(dsn, issue_credential("ada", "admin"))
    assert done.returncode == 0, done.stderr
    [row] = call_database(dsn, lambda pool: pool.fetch("SELECT * FROM audit_log WHERE tenant_id = 'aios-admin'"))
    record = json.loads(row["record"])
    assert (record["action"], record["principal"], record["role"]) == ("connectors.set", "ada", "admin")
    assert record["details"]["connector"] == "webhook" and "whsec_admin_test" not in row["record"]
    verified = aios("audit", "verify", "--tenant", "aios-admin", env={"AIOS_POSTGRES_DSN": dsn})
    assert verified.returncode == 0, verified.stderr
