"""`python -m services.infer`: serve registry models over the Open Inference Protocol with uvicorn.

One process: its batch queue merges every concurrent request, which a second worker would halve.
"""

from __future__ import annotations

import os

import uvicorn

from aios.infer.service import SERVICE
from aios.infer.settings import InferSettings
from aios.runtime.entry import run_service


def serve(settings: InferSettings) -> None:
    # The app factory reads its settings from the environment again; the port must agree.
    os.environ["AIOS_INFER_PORT"] = str(settings.port)
    uvicorn.run(
        "aios.infer.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        access_log=False,
        log_level="info",
    )


def main() -> None:
    run_service(InferSettings(), "port", serve, tracing=SERVICE)


if __name__ == "__main__":
    main()
