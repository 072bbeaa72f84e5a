"""`python -m services.schema_registry`: serve the schema registry with uvicorn, configured by `AIOS_REGISTRY_*`."""

from __future__ import annotations

import uvicorn

from aios.runtime.entry import run_service
from aios.schema_registry.app import create_app
from aios.schema_registry.settings import RegistrySettings


def serve(settings: RegistrySettings) -> None:
    """One worker: the advisory locks make more safe, but one is plenty for the local stack."""
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, workers=1, log_level="info")


def main() -> None:
    run_service(RegistrySettings(), "port", serve)


if __name__ == "__main__":
    main()
