"""`python -m aios.registry`: serve the registry with uvicorn, configured by `AIOS_REGISTRY_*`."""

from __future__ import annotations

import logging

import uvicorn

from aios.registry.app import create_app
from aios.registry.settings import RegistrySettings


def main() -> None:
    """One worker: the advisory locks make more safe, but one is plenty for the local stack."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = RegistrySettings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, workers=1, log_level="info")


if __name__ == "__main__":
    main()
