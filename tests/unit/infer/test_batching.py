"""Adaptive batching: size-or-time close, one answer per request, failures to every member, a bounded queue."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence

import pytest

from aios.classify.routes import ModelRef
from aios.infer.batching import Batch, BatchQueue, Pending, merge, split
from aios.infer.errors import Overloaded
from aios.inference.classifier import Prediction

REF = ModelRef("intents", 1)


def prediction(text: str, k: int) -> Prediction:
    return Prediction(text, 0.5, [(f"{text}-{i}", 0.1) for i in range(k)], False)


class Recorder:
    """A backend that answers each text with itself, records its batches, and can be held or made to fail."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.release = threading.Event()
        self.release.set()
        self.error: Exception | None = None

    def __call__(self, ref: ModelRef, texts: Sequence[str], k: int) -> list[Prediction]:
        self.release.wait(5)
        self.batches.append(list(texts))
        if self.error is not None:
            raise self.error
        return [prediction(text, k) for text in texts]


def pending(texts: list[str], k: int) -> Pending:
    return Pending(texts, k, "t", asyncio.get_event_loop_policy().new_event_loop().create_future())


def test_merge_and_split_keep_each_members_texts_and_k() -> None:
    members = [pending(["a", "b"], 1), pending(["c"], 3)]
    texts, k = merge(members)
    assert (texts, k) == (["a", "b", "c"], 3)
    answers = split([prediction(text, k) for text in texts], members)
    assert [[p.label for p in answer] for answer in answers] == [["a", "b"], ["c"]]
    assert [len(p.top_k) for answer in answers for p in answer] == [1, 1, 3]
    with pytest.raises(ValueError, match="2 predictions for 3 texts"):
        split([prediction("a", 1), prediction("b", 1)], members)


def test_concurrent_requests_share_batches_up_to_the_size() -> None:
    backend = Recorder()
    observed: list[Batch] = []

    async def scenario() -> list[list[Prediction]]:
        queue = BatchQueue(
            backend, max_batch_texts=4, max_wait_s=0.005, max_queued_texts=100, observe=lambda b, _: observed.append(b)
        )
        backend.release.clear()  # the first batch holds the model while the rest queue up
        first = asyncio.ensure_future(queue.predict(REF, ["warm"], 1, "t"))
        await asyncio.sleep(0.05)
        rest = [
            asyncio.ensure_future(queue.predict(REF, [f"x{i}", f"y{i}"] if i % 2 else [f"x{i}"], 2, f"t{i}"))
            for i in range(6)
        ]
        await asyncio.sleep(0.05)
        backend.release.set()
        answers = await asyncio.gather(first, *rest)
        await queue.close()
        return answers

    answers = asyncio.run(scenario())
    assert [p.label for p in answers[2]] == ["x1", "y1"], "each caller gets its own texts back, in order"
    # A request is never split: x5 and y5 do not fit beside the three texts before them.
    assert backend.batches == [["warm"], ["x0", "x1", "y1", "x2"], ["x3", "y3", "x4"], ["x5", "y5"]]
    assert observed[1].tenants == ["t0", "t1", "t1", "t2"], "one tenant entry per text"
    assert [len(p.top_k) for p in answers[0] + answers[2]] == [1, 2, 2], "each caller's own k"


def test_a_lone_request_waits_at_most_the_time_budget() -> None:
    backend = Recorder()

    async def scenario() -> float:
        queue = BatchQueue(backend, max_batch_texts=64, max_wait_s=0.05, max_queued_texts=100)
        started = time.perf_counter()
        await queue.predict(REF, ["only"], 1, "t")
        took = time.perf_counter() - started
        await queue.close()
        return took

    took = asyncio.run(scenario())
    assert 0.04 < took < 1.0
    assert backend.batches == [["only"]]


def test_a_failed_batch_fails_every_member_with_its_reason() -> None:
    backend = Recorder()
    backend.error = RuntimeError("out of memory")

    async def scenario() -> Sequence[object]:
        queue = BatchQueue(backend, max_batch_texts=8, max_wait_s=0.05, max_queued_texts=100)
        results = await asyncio.gather(
            *(queue.predict(REF, [f"t{i}"], 1, "t") for i in range(3)), return_exceptions=True
        )
        await queue.close()
        return results

    results = asyncio.run(scenario())
    assert len(backend.batches) == 1
    assert all(isinstance(r, RuntimeError) and "out of memory" in str(r) for r in results)


def test_a_full_queue_refuses_at_once_and_takes_requests_again_once_drained() -> None:
    backend = Recorder()

    async def scenario() -> None:
        queue = BatchQueue(backend, max_batch_texts=1, max_wait_s=0, max_queued_texts=3, retry_after_s=2)
        backend.release.clear()
        running = asyncio.ensure_future(queue.predict(REF, ["running"], 1, "t"))
        await asyncio.sleep(0.05)  # taken into a batch: no longer queued
        waiting = [asyncio.ensure_future(queue.predict(REF, [f"w{i}"], 1, "t")) for i in range(3)]
        await asyncio.sleep(0)
        with pytest.raises(Overloaded) as refused:
            await queue.predict(REF, ["one too many"], 1, "t")
        assert refused.value.status == 429 and refused.value.headers == {"Retry-After": "2"}
        assert queue.submit(REF, ["shadow"], 1, "t") is None, "nothing is queued past the bound"
        backend.release.set()
        await asyncio.gather(running, *waiting)
        assert len(await queue.predict(REF, ["again"], 1, "t")) == 1
        await queue.close()

    asyncio.run(scenario())
