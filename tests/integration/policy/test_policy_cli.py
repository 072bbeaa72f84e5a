"""`aios policy apply|history|test` as an operator runs them, on a private migrated database."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import asyncpg

from aios.db.pool import open_pool
from aios.paths import project_root
from aios.policy.loading import load_policy_file
from aios.policy.store import PolicyStore
from aios.tenants.store import TenantStore
from tests.support.cli import aios

DEMO = project_root() / "policies" / "demo.yaml"
SAMPLES = project_root() / "policies" / "samples" / "demo-events.jsonl"


def create_tenant(dsn: str, name: str) -> str:
    async def work() -> str:
        async with open_pool(dsn) as pool:
            return (await TenantStore(pool).create_tenant(name)).tenant_id

    return asyncio.run(work())


def active_policies(dsn: str) -> dict[str, str]:
    async def work() -> dict[str, str]:
        async with open_pool(dsn) as pool:
            return {tenant: loaded.version for tenant, loaded in (await PolicyStore(pool).active()).items()}

    return asyncio.run(work())


def test_apply_records_the_version_and_activates_it(migrated_database: str, tmp_path: Path) -> None:
    tenant_id = create_tenant(migrated_database, "demo")
    env = {"AIOS_POSTGRES_DSN": migrated_database}
    first = aios("policy", "apply", str(DEMO), "--json", env=env)
    assert first.returncode == 0, first.stderr
    applied = json.loads(first.stdout)
    version = load_policy_file(DEMO).version
    assert applied == {
        "tenant": "demo",
        "tenant_id": tenant_id,
        "version": version,
        "new_version": True,
        "changed": True,
        "rules": len(load_policy_file(DEMO).policy.rules),
    }
    assert active_policies(migrated_database) == {tenant_id: version}

    again = json.loads(aios("policy", "apply", str(DEMO), "--json", env=env).stdout)
    assert (again["new_version"], again["changed"]) == (False, False)

    edited = tmp_path / "demo.yaml"
    edited.write_text(DEMO.read_text().replace("priority: 1", "priority: 2"))
    changed = json.loads(aios("policy", "apply", str(edited), "--json", env=env).stdout)
    assert changed["version"] != version and changed["new_version"] and changed["changed"]
    assert active_policies(migrated_database) == {tenant_id: changed["version"]}

    history = json.loads(aios("policy", "history", "demo", "--json", env=env).stdout)
    assert [(h["version"], h["active"]) for h in history] == [(changed["version"], True), (version, False)]

    # Back to the first file: the old version becomes active again without a new row.
    back = json.loads(aios("policy", "apply", str(DEMO), "--json", env=env).stdout)
    assert (back["version"], back["new_version"], back["changed"]) == (version, False, True)

    async def rows() -> int:
        conn = await asyncpg.connect(migrated_database)
        try:
            return int(await conn.fetchval("SELECT count(*) FROM policy_versions"))
        finally:
            await conn.close()

    assert asyncio.run(rows()) == 2


def test_invalid_file_and_unknown_tenant_are_clear_errors(migrated_database: str, tmp_path: Path) -> None:
    env = {"AIOS_POSTGRES_DSN": migrated_database}
    broken = tmp_path / "acme.yaml"
    broken.write_text("tenant: acme\nrules:\n  - name: r\n    when: {confidence: {above: 3}}\n    auto: {}\n")
    result = aios("policy", "apply", str(broken), env=env)
    assert result.returncode == 1
    assert f"{broken}:line 4: rules[0].when.confidence.above: unknown field" in result.stderr
    assert f"{broken}:line 1: default: required field is missing" in result.stderr
    assert active_policies(migrated_database) == {}

    unknown = aios("policy", "apply", str(DEMO), env=env)
    assert unknown.returncode == 1
    assert "no tenant is named or has the id 'demo'" in unknown.stderr


def test_policy_test_prints_each_outcome_without_kafka_or_a_database(tmp_path: Path) -> None:
    # A DSN nobody listens on: the command must not need PostgreSQL (nor Kafka).
    env = {"AIOS_POSTGRES_DSN": "postgresql://nobody@127.0.0.1:1/none", "AIOS_KAFKA_BOOTSTRAP": "127.0.0.1:1"}
    result = aios("policy", "test", str(DEMO), "--events", str(SAMPLES), "--json", env=env)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == len(SAMPLES.read_text().splitlines())
    assert {line["outcome"] for line in lines} == {"auto", "review", "reject"}
    fraud = next(line for line in lines if line["event_id"] == "demo-03")
    assert (fraud["rule"], fraud["priority"], fraud["sla_s"]) == ("fraud-report", 1, 900)
    assert fraud["actions"][0]["type"] == "webhook.alert_fraud_desk"

    table = aios("policy", "test", str(DEMO), "--events", str(SAMPLES), env=env)
    assert table.returncode == 0
    assert "routine-answer" in table.stdout and "REJECT" in table.stdout

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "hi", "classification": {"label": "x"}}\nnot json\n')
    refused = aios("policy", "test", str(DEMO), "--events", str(bad), env=env)
    assert refused.returncode == 1
    assert "bad.jsonl:2: not JSON" in refused.stderr
