"""`python -m services.lag_exporter`: every consumer group's lag per partition, read from the broker."""

from __future__ import annotations

from aios.lag.exporter import LagExporterSettings, lag_exporter
from aios.runtime.entry import start_worker


def main() -> None:
    start_worker(LagExporterSettings(), lag_exporter, traced=False)


if __name__ == "__main__":
    main()
