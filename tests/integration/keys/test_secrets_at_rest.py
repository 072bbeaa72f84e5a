"""Secrets at rest: webhook signing secrets and connector configurations (SMTP passwords included) are
sealed in PostgreSQL, open only with the keyring outside it, survive a KEK rotation, and refuse to open
in another row. Each test has its own database and keyring."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from aios.connectors.config import ConnectorConfigs
from aios.db.migrations import migrate
from aios.db.scratch import scratch_database
from aios.keys.envelope import DataKeys
from aios.keys.errors import DecryptionError
from aios.keys.keyring import FileKeyRing
from aios.settings import ConnectionSettings
from aios.tenants.store import TenantStore
from tests.support.cli import aios
from tests.support.database import call_database

SMTP_PASSWORD = "smtp-password-4f1c9e"


@pytest.fixture
def dsn(connection: ConnectionSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("AIOS_KEYS_DIR", str(tmp_path / "keys"))
    with scratch_database(connection.postgres_dsn.get_secret_value()) as dsn:
        monkeypatch.setenv("AIOS_POSTGRES_DSN", dsn)
        call_database(dsn, migrate)
        yield dsn


async def _everything_stored(pool: asyncpg.Pool) -> str:
    """Every row of the tables that hold secrets, as PostgreSQL would dump them."""
    rows = [
        *await pool.fetch("SELECT * FROM webhook_secrets"),
        *await pool.fetch("SELECT * FROM connector_configs"),
        *await pool.fetch("SELECT * FROM data_keys"),
    ]
    return "\n".join(repr(dict(row)) for row in rows)


async def _store_secrets(pool: asyncpg.Pool) -> tuple[str, str]:
    tenants = TenantStore(pool)
    issued = await tenants.create_tenant("sealed")
    secret = (await tenants.add_webhook_source("sealed-src", "sealed")).secret
    await ConnectorConfigs(pool).set(
        issued.tenant_id, "email", {"host": "127.0.0.1", "username": "mailer", "password": SMTP_PASSWORD}
    )
    await ConnectorConfigs(pool).set(issued.tenant_id, "webhook", {"url": "http://x", "secret": "whsec_conf"})
    return issued.tenant_id, secret


def test_no_plaintext_secret_in_the_tables_and_each_opens_with_the_keyring(dsn: str) -> None:
    async def work(pool: asyncpg.Pool) -> tuple[str, str, Any, Any]:
        tenant_id, secret = await _store_secrets(pool)
        fresh = DataKeys(pool)  # nothing cached: the data keys are unwrapped with the keyring
        source = await TenantStore(pool, data_keys=fresh).webhook_source("sealed-src")
        email = await ConnectorConfigs(pool, data_keys=fresh).get(tenant_id, "email")
        return secret, await _everything_stored(pool), source, email

    secret, stored, source, email = call_database(dsn, work)
    for plaintext in (secret, SMTP_PASSWORD, "whsec_conf", "mailer"):
        assert plaintext not in stored
    assert source is not None and source.secrets == (secret,)
    assert email["password"] == SMTP_PASSWORD


def test_a_sealed_value_moved_to_another_row_does_not_open(dsn: str) -> None:
    async def work(pool: asyncpg.Pool) -> None:
        tenant_id, _ = await _store_secrets(pool)
        await pool.execute(
            "UPDATE connector_configs SET config = (SELECT config FROM connector_configs WHERE connector = 'webhook')"
            " WHERE connector = 'email'"
        )
        with pytest.raises(DecryptionError):
            await ConnectorConfigs(pool).get(tenant_id, "email")

    call_database(dsn, work)


def test_plaintext_rows_from_before_are_read_then_sealed(dsn: str) -> None:
    async def setup(pool: asyncpg.Pool) -> str:
        tenant_id, _ = await _store_secrets(pool)
        await pool.execute(
            "INSERT INTO connector_configs (tenant_id, connector, config) VALUES ($1, 'http', $2::jsonb)",
            tenant_id,
            json.dumps({"url": "http://x", "token": "legacy-token-77"}),
        )
        await pool.execute(
            "INSERT INTO webhook_secrets (source, secret, tenant_id) VALUES ('sealed-src', 'whsec_legacy_77', $1)",
            tenant_id,
        )
        assert (await ConnectorConfigs(pool).get(tenant_id, "http"))["token"] == "legacy-token-77"
        return tenant_id

    tenant_id = call_database(dsn, setup)
    sealed = aios("secrets", "seal")
    assert sealed.returncode == 0, sealed.stderr
    assert "sealed 1 webhook secret(s) and 1 connector configuration(s)" in sealed.stdout

    async def after(pool: asyncpg.Pool) -> None:
        stored = await _everything_stored(pool)
        assert "legacy-token-77" not in stored and "whsec_legacy_77" not in stored
        assert (await ConnectorConfigs(pool).get(tenant_id, "http"))["token"] == "legacy-token-77"
        source = await TenantStore(pool).webhook_source("sealed-src")
        assert source is not None and "whsec_legacy_77" in source.secrets

    call_database(dsn, after)


def test_rotate_kek_rewraps_every_data_key_and_a_keyring_loaded_before_follows(dsn: str, tmp_path: Path) -> None:
    keyring = FileKeyRing(tmp_path / "keys" / "keyring.json")

    async def before(pool: asyncpg.Pool) -> str:
        return (await _store_secrets(pool))[0]

    tenant_id = call_database(dsn, before)
    first = keyring.current_id()
    for rotation in (1, 2):
        rotated = aios("secrets", "rotate-kek")
        assert rotated.returncode == 0, rotated.stderr
        assert "re-wrapped 1 data key(s)" in rotated.stdout
        if rotation == 2:  # the first rotation's old KEK wraps nothing now, so the second drops it
            assert f"dropped unused KEK(s) {first}" in rotated.stdout
    current = keyring.current_id()
    assert current != first and first not in keyring.ids()

    async def after(pool: asyncpg.Pool) -> None:
        assert {row["kek_id"] for row in await pool.fetch("SELECT kek_id FROM data_keys")} == {current}
        email = await ConnectorConfigs(pool, data_keys=DataKeys(pool, keyring)).get(tenant_id, "email")
        assert email["password"] == SMTP_PASSWORD

    call_database(dsn, after)
