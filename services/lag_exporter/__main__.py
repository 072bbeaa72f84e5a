"""`python -m services.lag_exporter`: every consumer group's lag per partition, read from the broker."""

from __future__ import annotations

import logging

from aios.observability.lag import LagExporterSettings, run_exporter
from aios.runtime.catalog import ServiceRuntime


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = LagExporterSettings()
    run_exporter(settings.model_copy(update={"port": ServiceRuntime().port_or(settings.port)}))


if __name__ == "__main__":
    main()
