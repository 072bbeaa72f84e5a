"""What every service's `python -m services.<name>` does before its own work: logging, tracing, its port."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from pydantic import BaseModel

from aios.observability.tracing import configure_tracing
from aios.runtime.catalog import ServiceRuntime

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

SettingsT = TypeVar("SettingsT", bound=BaseModel)


def run_service(
    settings: SettingsT, port_field: str, run: Callable[[SettingsT], object], *, tracing: str | None = None
) -> None:
    """Run `run` with `settings`, its `port_field` set to the port `aios up` gave this instance (if any).

    `tracing` names the service in its spans; None for processes that handle no records.
    """
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    if tracing is not None:
        configure_tracing(tracing)
    port = ServiceRuntime().port_or(getattr(settings, port_field))
    run(settings.model_copy(update={port_field: port}))
