"""`python -m services.retrieve_generate`: passages and grounded drafts for aios.events.classified."""

from __future__ import annotations

import logging

from aios.observability.tracing import configure_tracing
from aios.retrieve_generate.service import SERVICE, run_worker
from aios.retrieve_generate.settings import RetrieveGenerateSettings
from aios.runtime.catalog import ServiceRuntime


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    configure_tracing(SERVICE)
    settings = RetrieveGenerateSettings()
    run_worker(settings.model_copy(update={"metrics_port": ServiceRuntime().port_or(settings.metrics_port)}))


if __name__ == "__main__":
    main()
