"""`python -m services.triton`: a Triton Inference Server serving every model version a registry alias points at."""

from __future__ import annotations

import asyncio
import logging
import signal

from aios.inference.triton_server import TritonSettings, serve
from aios.runtime.catalog import ServiceRuntime
from aios.runtime.entry import LOG_FORMAT
from aios.settings import ConnectionSettings


async def _run(settings: TritonSettings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await serve(settings, ConnectionSettings().postgres_dsn.get_secret_value(), stop)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    settings = TritonSettings()
    settings = settings.model_copy(update={"http_port": ServiceRuntime().port_or(settings.http_port)})
    asyncio.run(_run(settings))


if __name__ == "__main__":
    main()
