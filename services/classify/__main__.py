"""`python -m services.classify`: a batched inference worker on aios.events.received."""

from __future__ import annotations

from aios.classify.service import SERVICE, run_worker
from aios.classify.settings import ClassifySettings
from aios.runtime.entry import run_service


def main() -> None:
    run_service(ClassifySettings(), "metrics_port", run_worker, tracing=SERVICE)


if __name__ == "__main__":
    main()
