"""`python -m services.classify`: a batched inference worker on aios.events.received."""

from __future__ import annotations

import logging

from aios.classify.service import SERVICE, run_worker
from aios.classify.settings import ClassifySettings
from aios.observability.tracing import configure_tracing
from aios.runtime.catalog import ServiceRuntime


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    configure_tracing(SERVICE)
    settings = ClassifySettings()
    run_worker(settings.model_copy(update={"metrics_port": ServiceRuntime().port_or(settings.metrics_port)}))


if __name__ == "__main__":
    main()
