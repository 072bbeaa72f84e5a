"""What every `python -m services.<name>` does before its own work: logging, tracing, its port.

Servers (ingest, review, decide, Triton, the schema registry) start with `run_service`; workers on
the shared runner with `start_worker`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from pydantic import BaseModel

from aios.observability.tracing import configure_tracing
from aios.runtime.catalog import ServiceRuntime
from aios.runtime.worker import ServiceSettings, WorkerSpec, run_worker

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

SettingsT = TypeVar("SettingsT", bound=BaseModel)
WorkerSettingsT = TypeVar("WorkerSettingsT", bound=ServiceSettings)


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


def start_worker(
    settings: WorkerSettingsT,
    worker: Callable[[WorkerSettingsT], WorkerSpec[WorkerSettingsT]],
    *,
    port_field: str = "metrics_port",
    traced: bool = True,
) -> None:
    """Run the worker `worker(settings)` describes, its `port_field` set to the port `aios up` gave this instance.

    `traced`: its spans are exported under the worker's name (False for a worker that handles no records).
    """

    def run(settings: WorkerSettingsT) -> None:
        spec = worker(settings)
        if traced:
            configure_tracing(spec.service)
        run_worker(spec)

    run_service(settings, port_field, run)
