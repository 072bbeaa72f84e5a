"""`python -m services.outcomes`: follows the outcome topics and announces each event's outcome through Redis."""

from __future__ import annotations

from aios.outcomes.notifier import outcomes_worker
from aios.outcomes.settings import OutcomesSettings
from aios.runtime.entry import start_worker


def main() -> None:
    start_worker(OutcomesSettings(), outcomes_worker)


if __name__ == "__main__":
    main()
