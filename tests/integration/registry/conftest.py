"""TEMPORARY: a private PostgreSQL and registry until tests/integration/conftest.py provides them.

The shared conftest starts the whole local stack and yields `schema_registry_url`; delete this
file once it exists. Ports 25999 (PostgreSQL) and 28999 (registry) stay clear of the real stack.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_PORT = 25999
REGISTRY_PORT = 28999


def _as_postgres(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root, so root runs it as the `postgres` OS user."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def _wait(ready: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not ready after {timeout}s")
        time.sleep(0.2)


def _registry_healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="session")
def schema_registry_url() -> Iterator[str]:
    data_dir = Path(tempfile.mkdtemp(prefix="regtest-pg-"))
    if os.geteuid() == 0:
        shutil.chown(data_dir, "postgres", "postgres")
    subprocess.run(
        _as_postgres([str(PG_BIN / "initdb"), "-D", str(data_dir), "-U", "aios", "--auth=trust"]),
        check=True,
        capture_output=True,
    )
    postgres = subprocess.Popen(
        _as_postgres(
            [
                str(PG_BIN / "postgres"),
                "-D",
                str(data_dir),
                "-p",
                str(PG_PORT),
                "-h",
                "127.0.0.1",
                "-k",
                str(data_dir),
                "-c",
                "fsync=off",
            ]
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    registry: subprocess.Popen[bytes] | None = None
    try:
        pg_ready = [str(PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(PG_PORT)]
        _wait(lambda: subprocess.run(pg_ready, capture_output=True).returncode == 0, "PostgreSQL")
        subprocess.run(
            [str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", "aios", "aios"],
            check=True,
        )
        url = f"http://127.0.0.1:{REGISTRY_PORT}"
        registry = subprocess.Popen(
            [sys.executable, "-m", "aios.registry"],
            env={
                **os.environ,
                "AIOS_REGISTRY_PORT": str(REGISTRY_PORT),
                "AIOS_REGISTRY_POSTGRES_DSN": f"postgresql://aios@127.0.0.1:{PG_PORT}/aios",
            },
        )
        _wait(lambda: _registry_healthy(url), "schema registry")
        yield url
    finally:
        for process in (registry, postgres):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)
        shutil.rmtree(data_dir, ignore_errors=True)
