"""`python -m services.classify`: a batched inference worker on the received events."""

from __future__ import annotations

from aios.classify.service import classify_worker
from aios.classify.settings import ClassifySettings
from aios.runtime.entry import start_worker


def main() -> None:
    start_worker(ClassifySettings(), classify_worker)


if __name__ == "__main__":
    main()
