"""Retry with backoff: when a failing handler is tried again, after how long, and when it is given up.

A transient failure (a dependency is down; the records are fine) is retried until `transient_for_s`
has passed (for ever when None) and never counts as an attempt: the records must not be
dead-lettered for it. Any other failure is tried `attempts` times in all; the types in `never` are
given up at once. The pause starts at `first_backoff_s` and doubles up to `MAX_BACKOFF_S`. The
consumer loop retries in a thread and decide's agents in asyncio: both run `Retrying`, each with
its own way to wait (`call` and `call_async`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from aios.kafka.errors import TransientError
from aios.observability import metrics

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 5.0

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int
    """Tries of a call that keeps failing (not transiently), the first one included."""
    first_backoff_s: float
    transient: tuple[type[BaseException], ...] = (TransientError,)
    transient_for_s: float | None = None
    """How long transient failures are retried before the last one is raised; None: for ever."""
    never: tuple[type[BaseException], ...] = ()
    """Failures that no retry can mend: raised at once."""

    def start(self, service: str, attempts: int | None = None) -> Retrying:
        """The retries of one call (`attempts` overrides the policy's)."""
        return Retrying(self, service, self.attempts if attempts is None else attempts)


class Retrying:
    """The state of one call's retries: failures so far, the next pause, the transient deadline."""

    def __init__(self, policy: RetryPolicy, service: str, attempts: int) -> None:
        self.policy = policy
        self.service = service
        self.attempts = attempts
        self.failures = 0
        self._backoff = policy.first_backoff_s
        self._transient_until = None if policy.transient_for_s is None else time.monotonic() + policy.transient_for_s

    def pause_after(self, exc: Exception) -> float:
        """Seconds to wait before trying again after `exc`; re-raises `exc` when the call is given up."""
        if isinstance(exc, self.policy.never):
            raise exc
        if isinstance(exc, self.policy.transient):
            if self._transient_until is not None and time.monotonic() > self._transient_until:
                raise exc
            log.warning("%s: transient failure, retrying", self.service, exc_info=exc)
        else:
            self.failures += 1
            if self.failures >= self.attempts:
                raise exc
            log.warning("%s: attempt %d failed (%r); retrying", self.service, self.failures, exc)
        metrics.HANDLER_RETRIES.labels(self.service).inc()
        pause, self._backoff = self._backoff, min(self._backoff * 2, MAX_BACKOFF_S)
        return pause


def call(retrying: Retrying, work: Callable[[], T]) -> T:
    """`work()`, retried in this thread as `retrying` says; the last failure is raised."""
    while True:
        try:
            return work()
        except Exception as exc:
            time.sleep(retrying.pause_after(exc))


async def call_async(retrying: Retrying, work: Callable[[], Awaitable[T]]) -> T:
    """`await work()`, retried without blocking the event loop; the last failure is raised."""
    while True:
        try:
            return await work()
        except Exception as exc:
            await asyncio.sleep(retrying.pause_after(exc))
