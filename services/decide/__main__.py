"""`python -m services.decide`: the policy engine (a Faust app) on the enriched events and the reviewers' verdicts."""

from __future__ import annotations

from aios.decide.app import SERVICE
from aios.decide.service import run_decide
from aios.decide.settings import DecideSettings
from aios.runtime.entry import run_service


def main() -> None:
    run_service(DecideSettings(), "metrics_port", run_decide, tracing=SERVICE)


if __name__ == "__main__":
    main()
