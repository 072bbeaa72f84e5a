"""`python -m aios.generation.standin` (a real tritonserver via pytriton) as a process of its own, on free ports."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from aios.inference.triton_process import TritonProcess, free_ports
from aios.paths import project_root
from aios.runtime.probes import wait_until_ok

MODEL = "drafter-standin"


def start_standin(log_dir: Path, max_batch_size: int = 64) -> TritonProcess:
    """Start the stand-in generative model and wait until Triton reports it ready."""
    http_port, grpc_port, metrics_port = free_ports(3)
    env = {
        **os.environ,
        "AIOS_STANDIN_HTTP_PORT": str(http_port),
        "AIOS_STANDIN_GRPC_PORT": str(grpc_port),
        "AIOS_STANDIN_METRICS_PORT": str(metrics_port),
        "AIOS_STANDIN_MAX_BATCH_SIZE": str(max_batch_size),
        "AIOS_STANDIN_MODEL": MODEL,
    }
    log = log_dir / f"standin-{http_port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "aios.generation.standin"],
            cwd=project_root(),
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    service = TritonProcess(process, f"http://127.0.0.1:{http_port}", log)
    if not wait_until_ok(f"{service.url}/v2/models/{MODEL}/ready", timeout_s=120):
        service.stop()
        raise AssertionError(f"stand-in not ready (exit {process.returncode}):\n{service.log_text()[-4000:]}")
    return service
