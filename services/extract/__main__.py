"""`python -m services.extract`: read each stored document into fields, checks and an ordinary event."""

from __future__ import annotations

from aios.extract.service import extract_worker
from aios.extract.settings import ExtractSettings
from aios.runtime.entry import start_worker


def main() -> None:
    start_worker(ExtractSettings(), extract_worker)


if __name__ == "__main__":
    main()
