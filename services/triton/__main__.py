"""`python -m services.triton`: a Triton Inference Server serving every model version a registry alias points at."""

from __future__ import annotations

import asyncio
import signal

from aios.inference.triton_server import TritonSettings, serve
from aios.runtime.entry import run_service
from aios.settings import ConnectionSettings


async def _serve_until_signalled(settings: TritonSettings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await serve(settings, ConnectionSettings().postgres_dsn.get_secret_value(), stop)


def main() -> None:
    run_service(TritonSettings(), "http_port", lambda settings: asyncio.run(_serve_until_signalled(settings)))


if __name__ == "__main__":
    main()
