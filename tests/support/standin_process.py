"""`python -m aios.generation.standin` (a real tritonserver via pytriton) as a process of its own, on free ports."""

from __future__ import annotations

import os
from pathlib import Path

from aios.inference.triton_process import TritonProcess, free_ports, launch

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
    return launch("aios.generation.standin", env, log, http_port, f"/v2/models/{MODEL}/ready")
