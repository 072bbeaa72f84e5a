"""The review service as a real process on private topics and database, and reviewer accounts for it."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

from aios.db.pool import open_pool
from aios.kafka.credentials import security_layout
from aios.review.accounts import ReviewerAccounts
from aios.settings import ConnectionSettings
from aios.tenants.store import TenantStore


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ReviewProcess:
    """`python -m services.review`; its log goes to a file for failures."""

    def __init__(
        self,
        connection: ConnectionSettings,
        dsn: str,
        requested_topic: str,
        completed_topic: str,
        deadletter_topic: str,
        log_dir: Path,
        stack_state_dir: Path | None = None,
        **settings: str,
    ) -> None:
        """`stack_state_dir` moves where a TLS certificate is made (and its CA), away from the shared stack's."""
        self.port = free_port()
        tls = settings.get("tls") == "true"
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self._ca = stack_state_dir / "tls" / "ca.crt" if tls and stack_state_dir else None
        self.env = {
            **os.environ,
            "AIOS_KAFKA_BOOTSTRAP": connection.kafka_bootstrap,
            "AIOS_SCHEMA_REGISTRY_URL": connection.schema_registry_url,
            "AIOS_POSTGRES_DSN": dsn,
            "AIOS_REDIS_URL": connection.redis_url,
            "AIOS_REVIEW_PORT": str(self.port),
            "AIOS_REVIEW_GROUP_ID": f"test-review-{uuid.uuid4().hex[:8]}",
            "AIOS_REVIEW_REQUESTED_TOPIC": requested_topic,
            "AIOS_REVIEW_COMPLETED_TOPIC": completed_topic,
            "AIOS_REVIEW_DEADLETTER_TOPIC": deadletter_topic,
            **{f"AIOS_REVIEW_{key.upper()}": value for key, value in settings.items()},
            **({"AIOS_STACK_STATE_DIR": str(stack_state_dir), **_session_kafka_access()} if stack_state_dir else {}),
        }
        self.log = log_dir / f"review-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "services.review"], env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.tail()
            try:
                if httpx.get(self.url + "/readyz", timeout=1, verify=self.verify).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(self.tail())

    @property
    def verify(self) -> ssl.SSLContext | bool:
        """How clients check the server: against the private stack's CA once the process made it."""
        if self._ca is None:
            return True
        if not self._ca.exists():
            return ssl.create_default_context()
        return ssl.create_default_context(cafile=self._ca)

    def stop(self) -> int:
        """SIGTERM: uvicorn drains, the lifespan stops the intake (commit) and flushes the producer."""
        assert self.process is not None
        self.process.terminate()
        code = self.process.wait(timeout=30)
        self.process = None
        return code

    def tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:]


def _session_kafka_access() -> dict[str, str]:
    """The session stack's Kafka credentials, for a process whose AIOS_STACK_STATE_DIR points elsewhere."""
    layout = security_layout()
    if not layout.principals.exists():
        return {}
    return {
        "AIOS_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "AIOS_CREDENTIALS_FILE": str(layout.principals),
        "AIOS_KAFKA_CA_LOCATION": str(layout.certificates.ca),
    }


def add_reviewer(dsn: str, tenant: str, username: str, password: str) -> None:
    async def work() -> None:
        async with open_pool(dsn) as pool:
            await ReviewerAccounts(pool).add(await TenantStore(pool).resolve(tenant), username, password)

    asyncio.run(work())


def stopped_cleanly(code: int) -> bool:
    """uvicorn re-raises SIGTERM after a graceful shutdown, so -SIGTERM is a clean exit too."""
    return code in (0, -signal.SIGTERM)
