"""The Prometheus configuration and alert rules pass promtool: syntax, and each alert on synthetic series."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

from aios.paths import infra_dir

PROMETHEUS = infra_dir() / "prometheus"


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("promtool")
    assert binary is not None, "promtool is missing: `make setup` installs Debian's prometheus package"
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=120, check=False)


def test_the_configuration_is_valid() -> None:
    result = promtool("check", "config", str(PROMETHEUS / "prometheus.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 rule files found" in result.stdout


@pytest.mark.parametrize("rules", sorted((PROMETHEUS / "rules").glob("*.yml")), ids=lambda p: p.name)
def test_every_rule_file_is_valid(rules: object) -> None:
    result = promtool("check", "rules", str(rules))
    assert result.returncode == 0, result.stdout + result.stderr


def test_each_alert_fires_when_it_should_and_only_then() -> None:
    """Drift, lag growth, dead letters, error rates, the latency SLO and review SLA (infra/prometheus/tests)."""
    result = promtool("test", "rules", *map(str, sorted((PROMETHEUS / "tests").glob("*.yml"))))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_promtool_test() -> None:
    groups = [g for p in (PROMETHEUS / "rules").glob("*.yml") for g in yaml.safe_load(p.read_text())["groups"]]
    alerts = {rule["alert"] for group in groups for rule in group["rules"] if "alert" in rule}
    suites = [yaml.safe_load(p.read_text()) for p in (PROMETHEUS / "tests").glob("*.yml")]
    tested = {check["alertname"] for suite in suites for test in suite["tests"] for check in test["alert_rule_test"]}
    assert alerts and alerts - tested == set()
