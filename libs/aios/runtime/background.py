"""An asyncio event loop on a thread of its own, for synchronous code that needs asyncio clients.

Consumer-loop handlers are synchronous, while the database pools (asyncpg), HTTP clients and
long-running tasks (schedulers, HTTP servers) are asyncio: they all live on this one loop, and
a handler hands it a coroutine and waits for the answer.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

log = logging.getLogger(__name__)


class BackgroundLoop:
    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def start(self) -> BackgroundLoop:
        self._thread.start()
        return self

    def run(self, coroutine: Coroutine[Any, Any, T], timeout_s: float | None = None) -> T:
        """Run `coroutine` on the loop and wait for its result (its exception is raised here)."""
        return self.spawn(coroutine).result(timeout_s)

    def spawn(self, coroutine: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Start `coroutine` on the loop without waiting."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop the loop once what it is running yields; callers finish their tasks first."""
        if self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout_s)
        if not self.loop.is_running():
            self.loop.close()


class WakeableTask:
    """Work done when woken (`wake()`), and at least every `interval_s`: a scheduler, an outbox drainer.

    A failing step is logged and tried again at the next wake-up, so a database outage pauses the
    task instead of ending it.
    """

    def __init__(self, interval_s: float, name: str) -> None:
        self.interval_s = interval_s
        self.name = name
        self.stopping = False
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def step(self) -> None:
        raise NotImplementedError

    async def run(self) -> None:
        while not self.stopping:
            self._wake.clear()
            try:
                await self.step()
            except Exception:
                log.exception("%s failed; trying again", self.name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval_s)
