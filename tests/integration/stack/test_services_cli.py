"""`aios up` runs every service under supervisord; `aios ps` and `stack status` report them."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from aios.runtime.supervisor import Supervisor
from aios.stack.stack import LocalStack
from tests.support.cli import aios


@pytest.fixture
def services_up(local_stack: LocalStack) -> Iterator[None]:
    result = aios("up")
    assert result.returncode == 0, result.stdout + result.stderr
    yield
    Supervisor(local_stack.settings).shutdown()


def test_up_runs_ingest_and_reports_it(services_up: None, local_stack: LocalStack) -> None:
    deadline = time.monotonic() + 60
    rows = []
    while time.monotonic() < deadline:
        rows = Supervisor(local_stack.settings).status()
        if rows and all(row.healthy for row in rows):
            break
        time.sleep(0.5)
    ingest = next(row for row in rows if row.service == "ingest")
    assert ingest.state == "RUNNING" and ingest.healthy and ingest.pid > 0
    assert ingest.log_file.endswith("ingest.log")

    listing = aios("ps")
    assert "ingest" in listing.stdout and "RUNNING" in listing.stdout
    status = json.loads(aios("stack", "status", "--json").stdout)
    assert status["ingest_url"] == "http://127.0.0.1:28000"
