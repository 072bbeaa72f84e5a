"""`python -m services.review`: serve the review pages with uvicorn (one process: it runs the intake and outbox too)."""

from __future__ import annotations

import logging
import os

import uvicorn

from aios.observability.tracing import configure_tracing
from aios.review.app import SERVICE
from aios.review.settings import ReviewSettings
from aios.runtime.catalog import ServiceRuntime
from aios.runtime.entry import LOG_FORMAT


def main() -> None:
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    configure_tracing(SERVICE)
    settings = ReviewSettings()
    port = ServiceRuntime().port_or(settings.port)
    os.environ["AIOS_REVIEW_PORT"] = str(port)
    uvicorn.run(
        "aios.review.app:create_app", factory=True, host=settings.host, port=port, access_log=False, log_level="info"
    )


if __name__ == "__main__":
    main()
