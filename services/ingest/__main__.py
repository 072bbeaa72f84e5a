"""`python -m services.ingest`: serve the ingest API with uvicorn."""

from __future__ import annotations

import os
import shutil

import uvicorn

from aios.ingest.settings import IngestSettings
from aios.observability.http import share_metrics_across_workers
from aios.runtime.entry import run_service


def serve(settings: IngestSettings) -> None:
    # Workers re-import the app factory, which reads the same environment; the port must agree.
    os.environ["AIOS_INGEST_PORT"] = str(settings.port)
    shared = share_metrics_across_workers(f"ingest-{settings.port}") if settings.workers > 1 else None
    try:
        uvicorn.run(
            "aios.ingest.app:create_app",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            access_log=False,
            log_level="info",
            timeout_keep_alive=settings.keep_alive_s,
            limit_concurrency=settings.max_connections,
        )
    finally:
        if shared is not None:
            shutil.rmtree(shared, ignore_errors=True)


def main() -> None:
    run_service(IngestSettings(), "port", serve)


if __name__ == "__main__":
    main()
