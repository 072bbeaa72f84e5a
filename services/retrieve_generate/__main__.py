"""`python -m services.retrieve_generate`: passages and grounded drafts for the classified events."""

from __future__ import annotations

from aios.retrieve_generate.service import retrieve_generate_worker
from aios.retrieve_generate.settings import RetrieveGenerateSettings
from aios.runtime.entry import start_worker


def main() -> None:
    start_worker(RetrieveGenerateSettings(), retrieve_generate_worker)


if __name__ == "__main__":
    main()
