"""The ingest service as a real process on a free port, and tenants to call it with."""

from __future__ import annotations

import asyncio
import os
import resource
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from aios.settings import ConnectionSettings
from aios.tenants.store import IssuedKey, IssuedWebhookSecret, TenantStore


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class IngestProcess:
    """`python -m services.ingest` with its own settings; its log goes to a file for failures."""

    def __init__(
        self, connection: ConnectionSettings, log_dir: Path, max_open_files: int | None = None, **settings: str
    ) -> None:
        """`max_open_files` caps the process's file descriptors (RLIMIT_NOFILE), as a small host would."""
        self.max_open_files = max_open_files
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "AIOS_KAFKA_BOOTSTRAP": connection.kafka_bootstrap,
            "AIOS_SCHEMA_REGISTRY_URL": connection.schema_registry_url,
            "AIOS_POSTGRES_DSN": connection.postgres_dsn.get_secret_value(),
            "AIOS_REDIS_URL": connection.redis_url,
            "AIOS_INGEST_PORT": str(self.port),
            **{f"AIOS_INGEST_{key.upper()}": value for key, value in settings.items()},
        }
        self.log = log_dir / f"ingest-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, ready: str = "/healthz") -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "services.ingest"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=self._limit_open_files,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            try:
                if httpx.get(self.url + ready, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(self.log.read_text()[-3000:])

    def _limit_open_files(self) -> None:
        if self.max_open_files is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (self.max_open_files, self.max_open_files))

    def stop(self) -> None:
        """SIGTERM and a graceful exit: uvicorn drains, runs the lifespan shutdown (producer flush),
        then re-raises the signal, so the exit status is -SIGTERM."""
        assert self.process is not None
        self.process.terminate()
        assert self.process.wait(timeout=30) in (0, -signal.SIGTERM)
        assert "Application shutdown complete" in self.log.read_text()


@pytest.fixture(scope="session")
def ingest_url(connection: ConnectionSettings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    service = IngestProcess(connection, tmp_path_factory.mktemp("ingest"), quota_rate_per_s="1000", quota_burst="2000")
    service.start(ready="/readyz")
    yield service.url
    service.stop()


@pytest.fixture(scope="session")
def tenant_store_call(connection: ConnectionSettings) -> Callable[..., object]:
    """Run one TenantStore method against the stack's PostgreSQL."""

    def call(method: str, *args: object) -> object:
        async def run() -> object:
            pool = await asyncpg.create_pool(connection.postgres_dsn.get_secret_value(), min_size=1, max_size=2)
            try:
                from aios.db.migrations import migrate

                await migrate(pool)
                return await getattr(TenantStore(pool), method)(*args)
            finally:
                await pool.close()

        return asyncio.run(run())

    return call


@pytest.fixture
def tenant(tenant_store_call: Callable[..., object]) -> IssuedKey:
    issued = tenant_store_call("create_tenant", f"tenant-{uuid.uuid4().hex[:8]}")
    assert isinstance(issued, IssuedKey)
    return issued


@pytest.fixture
def webhook(tenant_store_call: Callable[..., object], tenant: IssuedKey) -> IssuedWebhookSecret:
    issued = tenant_store_call("add_webhook_source", f"crm-{uuid.uuid4().hex[:8]}", tenant.tenant_id)
    assert isinstance(issued, IssuedWebhookSecret)
    return issued
