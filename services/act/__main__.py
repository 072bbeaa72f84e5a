"""`python -m services.act`: perform the actions of aios.decisions, exactly once in effect."""

from __future__ import annotations

import logging

from aios.act.service import SERVICE, run_act
from aios.act.settings import ActSettings
from aios.observability.tracing import configure_tracing
from aios.runtime.catalog import ServiceRuntime


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    configure_tracing(SERVICE)
    settings = ActSettings()
    run_act(settings.model_copy(update={"metrics_port": ServiceRuntime().port_or(settings.metrics_port)}))


if __name__ == "__main__":
    main()
