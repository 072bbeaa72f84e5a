"""The committed OpenAPI document is the live one, and the live service keeps to it under fuzzing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from aios.cli.ingest import OPENAPI_PATH, openapi_document
from aios.paths import project_root
from aios.tenants.store import IssuedKey


def test_committed_openapi_is_current() -> None:
    committed = (project_root() / OPENAPI_PATH).read_text()
    assert committed == openapi_document(), "run `aios ingest openapi --write` and commit docs/openapi.json"


def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    ingest_url: str, tenant: IssuedKey, tmp_path: Path
) -> None:
    """Fuzzes every operation with a valid key: no 5xx, every answer matches the document."""
    schemathesis = Path(sys.executable).parent / "schemathesis"
    result = subprocess.run(
        [
            str(schemathesis),
            "run",
            str(project_root() / OPENAPI_PATH),
            "--url",
            ingest_url,
            "-H",
            f"Authorization: Bearer {tenant.api_key}",
            "--checks",
            "not_a_server_error,response_schema_conformance",
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            "40",
            "--seed",
            "7",
            "--workers",
            "2",
            "--report-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
