"""`aios replay` over traffic the real decide service decided, on private topics and a scratch database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aios.settings import ConnectionSettings
from tests.integration.whatif.conftest import POLICY, Decided, replay_env
from tests.support.cli import aios


def _replay(connection: ConnectionSettings, dsn: str, decided: Decided, policy: Path, *extra: str) -> dict[str, Any]:
    env = replay_env(connection, dsn, decided.private)
    result = aios(
        "replay", "--tenant", decided.tenant, "--since", "15m", "--policy", str(policy), "--json", *extra, env=env
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_candidate_policy_that_differs_in_one_rule_changes_exactly_the_events_that_rule_covers(
    connection: ConnectionSettings, migrated_database: str, decided: Decided, tmp_path: Path
) -> None:
    events = decided.events
    same, lower = tmp_path / "same.yaml", tmp_path / "lower.yaml"
    same.write_text(POLICY.format(tenant=decided.tenant, routine_from=0.8))
    lower.write_text(POLICY.format(tenant=decided.tenant, routine_from=0.6))

    unchanged = _replay(connection, migrated_database, decided, same)
    assert unchanged["events"] == len(events) and unchanged["undecided"] == 0
    assert unchanged["changed"] == [] and unchanged["before"] == unchanged["after"]

    page = tmp_path / "report.html"
    report = _replay(connection, migrated_database, decided, lower, "--out", str(page))
    expected = {
        e["event_id"]
        for e in events
        if e["classification"]["label"] == "balance" and 0.6 <= e["classification"]["confidence"] < 0.8
    }
    assert {c["event_id"] for c in report["changed"]} == expected
    for change in report["changed"]:
        assert (change["before"]["outcome"], change["before"]["rule"]) == ("REVIEW", "default")
        assert (change["after"]["outcome"], change["after"]["rule"]) == ("AUTO", "routine")
    assert report["before"]["auto"] == 2 and report["after"]["auto"] == 4
    assert report["before"]["reject"] == report["after"]["reject"] == 1
    text = page.read_text()
    assert "<svg" in text and all(event_id in text for event_id in expected)
