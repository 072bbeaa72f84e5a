"""AIOS services as real processes (`python -m services.<name>`), for tests that stop or kill them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from aios.paths import project_root
from aios.settings import ConnectionSettings


def stack_env(connection: ConnectionSettings, postgres_dsn: str | None = None) -> dict[str, str]:
    """The variables that point a service at the test stack (and a test's own database)."""
    return {
        "AIOS_KAFKA_BOOTSTRAP": connection.kafka_bootstrap,
        "AIOS_SCHEMA_REGISTRY_URL": connection.schema_registry_url,
        "AIOS_POSTGRES_DSN": postgres_dsn or connection.postgres_dsn.get_secret_value(),
        "AIOS_REDIS_URL": connection.redis_url,
        "AIOS_LOOP_MAX_WAIT_MS": "50",
    }


class ServiceProcess:
    def __init__(self, module: str, env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self.process = subprocess.Popen(
            [sys.executable, "-m", module],
            env={**os.environ, **env},
            cwd=project_root(),
            stdout=log_path.open("ab"),
            stderr=subprocess.STDOUT,
        )

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout_s: float = 60) -> int:
        """SIGTERM and wait: the service drains and commits; its exit status."""
        self.terminate()
        return self.process.wait(timeout=timeout_s)

    def terminate(self) -> None:
        """SIGTERM without waiting (once: a second one makes uvicorn quit without draining)."""
        if self.running():
            self.process.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=30)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")
