"""`python -m services.retrieve_generate`: passages and grounded drafts for aios.events.classified."""

from __future__ import annotations

from aios.retrieve_generate.service import SERVICE, run_worker
from aios.retrieve_generate.settings import RetrieveGenerateSettings
from aios.runtime.entry import run_service


def main() -> None:
    run_service(RetrieveGenerateSettings(), "metrics_port", run_worker, tracing=SERVICE)


if __name__ == "__main__":
    main()
