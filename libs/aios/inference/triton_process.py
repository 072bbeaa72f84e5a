"""`python -m services.triton` as a process of its own, on free ports, against a given database.

For tests and benchmarks that need a private Triton server next to (not instead of) the one `aios up` runs;
`launch` starts any such Triton-serving module (the stand-in generative model too).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from aios.inference.errors import InferenceError
from aios.paths import project_root
from aios.runtime.probes import wait_until_ok


@dataclass
class TritonProcess:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        """SIGTERM and wait; then kill the whole group, so a stuck tritonserver child cannot outlive the test."""
        with suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=30)
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


def free_ports(count: int) -> list[int]:
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def start_triton(dsn: str, artifact_dir: Path, log_dir: Path, max_batch_size: int = 16) -> TritonProcess:
    """Start the service and wait until Triton is ready (it may serve nothing yet)."""
    http_port, grpc_port, metrics_port = free_ports(3)
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIOS_SERVICE_")}
    env.update(
        AIOS_POSTGRES_DSN=dsn,
        AIOS_MODEL_ARTIFACT_DIR=str(artifact_dir),
        AIOS_MODEL_DEVICE="cpu",
        AIOS_TRITON_HTTP_PORT=str(http_port),
        AIOS_TRITON_GRPC_PORT=str(grpc_port),
        AIOS_TRITON_METRICS_PORT=str(metrics_port),
        AIOS_TRITON_POLL_INTERVAL_S="0.5",
        AIOS_TRITON_MAX_BATCH_SIZE=str(max_batch_size),
    )
    return launch("services.triton", env, log_dir / f"triton-{http_port}.log", http_port, "/v2/health/ready")


def launch(module: str, env: dict[str, str], log: Path, http_port: int, ready_path: str) -> TritonProcess:
    """`python -m module` in a process group of its own, output to `log`; waits until `ready_path` answers OK."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", module],
            cwd=project_root(),
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    service = TritonProcess(process, f"http://127.0.0.1:{http_port}", log)
    if not wait_until_ok(f"{service.url}{ready_path}", timeout_s=120):
        service.stop()
        raise InferenceError(f"{module} not ready (exit {process.returncode}):\n{service.log_text()[-4000:]}")
    return service
