"""`python -m services.decide`: the policy engine (a Faust app) on aios.events.enriched and aios.review.completed."""

from __future__ import annotations

from aios.decide.app import SERVICE
from aios.decide.service import run_worker
from aios.decide.settings import DecideSettings
from aios.observability.tracing import configure_tracing
from aios.runtime.catalog import ServiceRuntime


def main() -> None:
    configure_tracing(SERVICE)
    settings = DecideSettings()
    run_worker(settings.model_copy(update={"metrics_port": ServiceRuntime().port_or(settings.metrics_port)}))


if __name__ == "__main__":
    main()
