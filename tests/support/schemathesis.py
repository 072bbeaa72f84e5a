"""Schemathesis (its command line, as a user would run it) against a live ingest API."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from aios.cli.ingest import OPENAPI_PATH
from aios.paths import project_root

CONTRACT_CHECKS = "not_a_server_error,response_schema_conformance"


def run_schemathesis(
    url: str,
    api_key: str,
    report_dir: Path,
    max_examples: int,
    checks: str = CONTRACT_CHECKS,
    seed: int = 7,
    timeout_s: float = 600,
) -> subprocess.CompletedProcess[str]:
    """Fuzz every operation of the committed OpenAPI document with a valid key; its exit status and output."""
    return subprocess.run(
        [
            str(Path(sys.executable).parent / "schemathesis"),
            "run",
            str(project_root() / OPENAPI_PATH),
            "--url",
            url,
            "-H",
            f"Authorization: Bearer {api_key}",
            "--checks",
            checks,
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            str(max_examples),
            "--seed",
            str(seed),
            "--workers",
            "2",
            "--report-dir",
            str(report_dir),
        ],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
