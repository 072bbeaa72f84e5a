"""Adaptive batching: concurrent requests for one model version merged into one backend call.

Each request waits on a future of its own. A version's batch closes when it holds `max_batch_texts`
texts or `max_wait_s` after its first request arrived, whichever first; the model runs on one
thread beside the event loop, so requests arriving meanwhile form the next batch. A failed batch
gives its exception to every member. The queue is bounded: a request that would take it past
`max_queued_texts` is refused at once (`Overloaded`) instead of waiting without limit.
Merging and splitting are pure functions (`merge`, `split`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from aios.classify.routes import ModelRef
from aios.infer.errors import Overloaded
from aios.inference.classifier import Prediction

log = logging.getLogger(__name__)

Predict = Callable[[ModelRef, Sequence[str], int], list[Prediction]]
"""The backend's batched call: one prediction per text, in order, with up to k labels."""


@dataclass
class Pending:
    """One request in the queue: its texts, how many labels it wants, whose it is, where its answer goes."""

    texts: Sequence[str]
    k: int
    tenant: str
    future: asyncio.Future[list[Prediction]]


@dataclass(frozen=True)
class Batch:
    ref: ModelRef
    members: list[Pending]
    seconds: float = 0.0
    """How long the backend call took (set once it ran)."""

    @property
    def tenants(self) -> list[str]:
        """One entry per text: whom each text's share of the batch's time is charged to."""
        return [member.tenant for member in self.members for _ in member.texts]


BatchObserver = Callable[[Batch, list[Prediction]], None]


def merge(members: Sequence[Pending]) -> tuple[list[str], int]:
    """The batch's texts in member order, and the most labels any member wants."""
    return [text for member in members for text in member.texts], max(member.k for member in members)


def split(predictions: Sequence[Prediction], members: Sequence[Pending]) -> list[list[Prediction]]:
    """Each member's predictions, top lists cut to the member's own k."""
    answers, start = [], 0
    for member in members:
        mine = predictions[start : start + len(member.texts)]
        answers.append([replace(p, top_k=p.top_k[: member.k]) if len(p.top_k) > member.k else p for p in mine])
        start += len(member.texts)
    if start != len(predictions):
        raise ValueError(f"the backend answered {len(predictions)} predictions for {start} texts")
    return answers


@dataclass
class _VersionQueue:
    waiting: deque[Pending] = field(default_factory=deque)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None


class BatchQueue:
    """The batches of every model version one process serves; `close` when the process stops."""

    def __init__(
        self,
        predict: Predict,
        *,
        max_batch_texts: int,
        max_wait_s: float,
        max_queued_texts: int,
        retry_after_s: int = 1,
        observe: BatchObserver | None = None,
    ) -> None:
        self.predict_batch = predict
        self.max_batch_texts = max_batch_texts
        self.max_wait_s = max_wait_s
        self.max_queued_texts = max_queued_texts
        self.retry_after_s = retry_after_s
        self.observe = observe
        self.queued_texts = 0
        self._queues: dict[ModelRef, _VersionQueue] = {}
        # One model call at a time: on CPU, two would share the same cores and both be slower.
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="infer-batch")

    async def predict(self, ref: ModelRef, texts: Sequence[str], k: int, tenant: str) -> list[Prediction]:
        """This request's predictions, once its batch has run; `Overloaded` when the queue is full."""
        future = self.submit(ref, texts, k, tenant)
        if future is None:
            raise Overloaded(
                f"{self.queued_texts} texts are waiting for the model; retry after {self.retry_after_s} s",
                self.retry_after_s,
            )
        return await future

    def submit(
        self, ref: ModelRef, texts: Sequence[str], k: int, tenant: str
    ) -> asyncio.Future[list[Prediction]] | None:
        """Queue a request; its future, or None when the queue has no room for it (nothing was queued)."""
        if self.queued_texts + len(texts) > self.max_queued_texts:
            return None
        queue = self._queues.get(ref)
        if queue is None:
            queue = self._queues[ref] = _VersionQueue()
            queue.task = asyncio.get_running_loop().create_task(self._drain(ref, queue), name=f"batches-{ref}")
        future: asyncio.Future[list[Prediction]] = asyncio.get_running_loop().create_future()
        queue.waiting.append(Pending(texts, k, tenant, future))
        self.queued_texts += len(texts)
        queue.arrived.set()
        return future

    async def close(self) -> None:
        """Stop every version's loop; requests still queued fail."""
        for queue in self._queues.values():
            if queue.task is not None:
                queue.task.cancel()
            for pending in queue.waiting:
                pending.future.cancel()
        await asyncio.gather(*(q.task for q in self._queues.values() if q.task is not None), return_exceptions=True)
        self._queues.clear()
        self._executor.shutdown(wait=True)

    async def _drain(self, ref: ModelRef, queue: _VersionQueue) -> None:
        while True:
            members = await self._next_batch(queue)
            self.queued_texts -= sum(len(member.texts) for member in members)
            # A caller that went away (disconnected, timed out) needs no answer.
            members = [member for member in members if not member.future.done()]
            if members:
                await self._run(Batch(ref, members))

    async def _next_batch(self, queue: _VersionQueue) -> list[Pending]:
        """Requests from the head of the queue until `max_batch_texts` or `max_wait_s` after the first."""
        while not queue.waiting:
            queue.arrived.clear()
            await queue.arrived.wait()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.max_wait_s
        members = [queue.waiting.popleft()]
        size = len(members[0].texts)
        while size < self.max_batch_texts:
            if queue.waiting:
                if size + len(queue.waiting[0].texts) > self.max_batch_texts:
                    break  # it opens the next batch
                members.append(queue.waiting.popleft())
                size += len(members[-1].texts)
                continue
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            queue.arrived.clear()
            try:
                await asyncio.wait_for(queue.arrived.wait(), remaining)
            except TimeoutError:
                break
        return members

    async def _run(self, batch: Batch) -> None:
        texts, k = merge(batch.members)
        started = time.perf_counter()
        try:
            predictions = await asyncio.get_running_loop().run_in_executor(
                self._executor, self.predict_batch, batch.ref, texts, k
            )
            answers = split(predictions, batch.members)
        except Exception as exc:
            log.warning("batch of %d texts for %s failed: %r", len(texts), batch.ref, exc)
            for member in batch.members:
                if not member.future.done():
                    member.future.set_exception(exc)
            return
        batch = replace(batch, seconds=time.perf_counter() - started)
        for member, answer in zip(batch.members, answers, strict=True):
            if not member.future.done():
                member.future.set_result(answer)
        if self.observe is not None:
            try:
                self.observe(batch, predictions)
            except Exception:
                log.exception("recording the batch of %s failed", batch.ref)
