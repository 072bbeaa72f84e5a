"""The committed OpenAPI document is the live one, and the live service keeps to it under fuzzing."""

from __future__ import annotations

from pathlib import Path

import pytest

from aios.cli.ingest import OPENAPI_PATH, openapi_document
from aios.paths import project_root
from aios.tenants.store import IssuedKey
from tests.support.schemathesis import run_schemathesis


def test_committed_openapi_is_current() -> None:
    committed = (project_root() / OPENAPI_PATH).read_text()
    assert committed == openapi_document(), "run `aios ingest openapi --write` and commit docs/openapi.json"


@pytest.mark.fuzz
def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    ingest_url: str, tenant: IssuedKey, tmp_path: Path
) -> None:
    """Fuzzes every operation with a valid key: no 5xx, every answer matches the document (`make fuzz` runs more)."""
    result = run_schemathesis(ingest_url, tenant.api_key, tmp_path, max_examples=40)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
