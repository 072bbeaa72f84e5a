"""`python -m services.review`: serve the review pages with uvicorn (one process: it runs the intake and outbox too)."""

from __future__ import annotations

import os

import uvicorn

from aios.review.parts import SERVICE
from aios.review.settings import ReviewSettings
from aios.runtime.entry import run_service


def serve(settings: ReviewSettings) -> None:
    # The app factory reads its settings from the environment again; the port must agree.
    os.environ["AIOS_REVIEW_PORT"] = str(settings.port)
    uvicorn.run(
        "aios.review.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        access_log=False,
        log_level="info",
    )


def main() -> None:
    run_service(ReviewSettings(), "port", serve, tracing=SERVICE)


if __name__ == "__main__":
    main()
