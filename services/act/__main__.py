"""`python -m services.act`: perform the actions of aios.decisions, exactly once in effect."""

from __future__ import annotations

from aios.act.service import SERVICE, run_act
from aios.act.settings import ActSettings
from aios.runtime.entry import run_service


def main() -> None:
    run_service(ActSettings(), "metrics_port", run_act, tracing=SERVICE)


if __name__ == "__main__":
    main()
