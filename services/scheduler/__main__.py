"""`python -m services.scheduler`: scheduled retraining and rollout state for alerting."""

from __future__ import annotations

from aios.runtime.entry import start_worker
from aios.scheduler.service import SchedulerSettings, scheduler


def main() -> None:
    start_worker(SchedulerSettings(), scheduler, traced=False)


if __name__ == "__main__":
    main()
