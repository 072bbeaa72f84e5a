"""Generative drafts off the consumer loop's critical path: a bounded queue and a time budget per draft.

A model server can be slow or gone; the pipeline must not wait on it. Each request is handed to a
worker thread as soon as the batch is retrieved, and the batch waits for its drafts only until the
budget runs out: a draft not back by then, a queue already holding `queue_size` requests, or a
generator failure each give a fallback reason and the caller writes the extractive draft instead.
A draft that arrives late is discarded; its thread frees its slot when the generator returns (its
own timeout bounds that), so a stalled model fills the queue and further requests fall back at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from aios.generation.base import Draft, DraftRequest, Generator

log = logging.getLogger(__name__)

QUEUE_FULL, TIMEOUT, FAILED, NO_ANSWER = "queue_full", "timeout", "generator_error", "no_answer"


@dataclass(frozen=True)
class Outcome:
    """A generated draft, or why there is none (the caller falls back to the extractive draft)."""

    draft: Draft | None
    fallback: str | None = None


class BudgetedGenerator:
    def __init__(self, generator: Generator, *, queue_size: int, budget_s: float) -> None:
        self.generator = generator
        self.queue_size = queue_size
        self.budget_s = budget_s
        self._pool = ThreadPoolExecutor(max_workers=queue_size, thread_name_prefix=f"{generator.name}-draft")
        self._lock = threading.Lock()
        self._in_flight = 0

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def generate(self, requests: Sequence[DraftRequest]) -> list[Outcome]:
        """One outcome per request, in order, within `budget_s` of the call."""
        deadline = time.monotonic() + self.budget_s
        futures = [self._submit(request) for request in requests]
        return [self._outcome(future, deadline) for future in futures]

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _submit(self, request: DraftRequest) -> Future[Draft | None] | None:
        with self._lock:
            if self._in_flight >= self.queue_size:
                return None
            self._in_flight += 1
        future = self._pool.submit(self._one, request)
        future.add_done_callback(self._release)
        return future

    def _one(self, request: DraftRequest) -> Draft | None:
        return self.generator.generate([request])[0]

    def _release(self, _: Future[Draft | None]) -> None:
        with self._lock:
            self._in_flight -= 1

    def _outcome(self, future: Future[Draft | None] | None, deadline: float) -> Outcome:
        if future is None:
            return Outcome(None, QUEUE_FULL)
        try:
            draft = future.result(timeout=max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            return Outcome(None, TIMEOUT)
        except Exception as exc:  # any failure of the model falls back; the event is not lost
            log.warning("%s generator failed: %r", self.generator.name, exc)
            return Outcome(None, FAILED)
        return Outcome(draft, None if draft else NO_ANSWER)
