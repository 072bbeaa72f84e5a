"""`python -m services.review`: serve the review pages with uvicorn (one process: it runs the intake and outbox too)."""

from __future__ import annotations

import os
from pathlib import Path

import uvicorn

from aios.review.parts import SERVICE
from aios.review.settings import ReviewSettings
from aios.runtime.entry import run_service
from aios.stack.certificates import ensure_server_certificate
from aios.stack.settings import StackSettings


def _tls_files(settings: ReviewSettings) -> tuple[Path, Path] | None:
    """The certificate and key to serve, None for plain HTTP."""
    if not settings.tls:
        return None
    if settings.tls_certificate is not None and settings.tls_key is not None:
        return settings.tls_certificate, settings.tls_key
    made = ensure_server_certificate(StackSettings().state_dir, "review", (settings.host, "127.0.0.1", "localhost"))
    return made.certificate, made.key


def serve(settings: ReviewSettings) -> None:
    # The app factory reads its settings from the environment again; the port must agree.
    os.environ["AIOS_REVIEW_PORT"] = str(settings.port)
    tls = _tls_files(settings)
    uvicorn.run(
        "aios.review.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        access_log=False,
        log_level="info",
        ssl_certfile=tls[0] if tls else None,
        ssl_keyfile=tls[1] if tls else None,
    )


def main() -> None:
    run_service(ReviewSettings(), "port", serve, tracing=SERVICE)


if __name__ == "__main__":
    main()
