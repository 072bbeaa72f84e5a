"""`python -m services.payouts_sim`: serve the payout simulator with uvicorn (one process: one SQLite writer)."""

from __future__ import annotations

import uvicorn

from aios.payouts_sim.app import create_app
from aios.payouts_sim.settings import PayoutsSimSettings
from aios.runtime.entry import run_service


def serve(settings: PayoutsSimSettings) -> None:
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, access_log=False, log_level="info")


def main() -> None:
    run_service(PayoutsSimSettings(), "port", serve)


if __name__ == "__main__":
    main()
