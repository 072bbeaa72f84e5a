"""`python -m services.lag_exporter`: every consumer group's lag per partition, read from the broker."""

from __future__ import annotations

from aios.observability.lag import LagExporterSettings, run_exporter
from aios.runtime.entry import run_service


def main() -> None:
    run_service(LagExporterSettings(), "port", run_exporter)


if __name__ == "__main__":
    main()
