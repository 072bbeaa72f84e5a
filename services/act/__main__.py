"""`python -m services.act`: perform the actions of the decisions topic, exactly once in effect."""

from __future__ import annotations

from aios.act.service import act_worker
from aios.act.settings import ActSettings
from aios.runtime.entry import start_worker


def main() -> None:
    start_worker(ActSettings(), act_worker)


if __name__ == "__main__":
    main()
