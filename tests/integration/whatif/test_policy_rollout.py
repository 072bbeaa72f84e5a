"""`aios policy rollout` shadow-evaluates a candidate on the tenant's live events before it decides anything."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

from aios.db.pool import open_pool
from aios.policy.loading import policy_version
from aios.policy.store import PolicyStore
from aios.settings import ConnectionSettings
from tests.integration.whatif.conftest import POLICY, Decided, replay_env
from tests.support.cli import AIOS

PLAN = """\
poll_interval: 1s
steps:
  - {name: shadow, shadow: true, share: 0, min_duration: 2s, min_events: 8}
  - {name: active, share: 1}
criteria: {min_sample: 8, min_agreement: 0.9}
"""


def _roll_out(
    connection: ConnectionSettings, dsn: str, decided: Decided, policy: Path, plan: Path
) -> tuple[int, dict[str, Any]]:
    """Start the rollout, send live traffic once its shadow step runs, and wait for its verdict."""
    env = {**os.environ, **replay_env(connection, dsn, decided.private)}
    command = [*AIOS, "policy", "rollout", str(policy), "--plan", str(plan), "--json"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not _running(dsn):
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()[1]
        time.sleep(0.2)
    decided.send()
    out, err = process.communicate(timeout=180)
    assert out, err
    return process.returncode, json.loads(out)


def _running(dsn: str) -> bool:
    async def work() -> bool:
        async with open_pool(dsn, max_size=1) as pool:
            return bool(await pool.fetchval("SELECT count(*) FROM rollouts WHERE state = 'running'"))

    return asyncio.run(work())


def _active(dsn: str, tenant_id: str) -> str:
    async def work() -> str:
        async with open_pool(dsn, max_size=1) as pool:
            return (await PolicyStore(pool).active())[tenant_id].version

    return asyncio.run(work())


def test_a_policy_that_would_change_live_decisions_is_not_activated_and_one_that_agrees_is(
    connection: ConnectionSettings, migrated_database: str, decided: Decided, tmp_path: Path
) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN)
    before = _active(migrated_database, decided.tenant_id)
    lower = tmp_path / "lower.yaml"
    lower.write_text(POLICY.format(tenant=decided.tenant, routine_from=0.6))
    code, outcome = _roll_out(connection, migrated_database, decided, lower, plan)
    assert (code, outcome["state"], outcome["step_name"]) == (3, "rolled_back", "shadow"), outcome
    assert "agreement 0.75 below 0.9" in outcome["reason"]
    assert _active(migrated_database, decided.tenant_id) == before

    reworded = tmp_path / "reworded.yaml"
    text = "description: the same rules, reworded\n" + POLICY.format(tenant=decided.tenant, routine_from=0.8)
    reworded.write_text(text)
    code, outcome = _roll_out(connection, migrated_database, decided, reworded, plan)
    assert (code, outcome["state"]) == (0, "promoted"), outcome
    assert _active(migrated_database, decided.tenant_id) == policy_version(text) != before
