"""Retry with backoff, as the consumer loop and decide's agents both run it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from aios.kafka import retry
from aios.kafka.errors import TransientError
from aios.kafka.retry import MAX_BACKOFF_S, RetryPolicy


class Flaky:
    """Fails with the given exceptions, one per call, then returns "done"."""

    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "done"


def test_a_call_is_tried_attempts_times_then_its_last_failure_is_raised() -> None:
    policy = RetryPolicy(attempts=3, first_backoff_s=0)
    assert retry.call(policy.start("test"), Flaky(ValueError("1"), ValueError("2"))) == "done"
    work = Flaky(*(ValueError(str(n)) for n in range(1, 5)))
    with pytest.raises(ValueError, match="3"):
        retry.call(policy.start("test"), work)
    assert work.calls == 3
    with pytest.raises(ValueError, match="1"):  # the batch-alone case: one try
        retry.call(policy.start("test", attempts=1), Flaky(ValueError("1")))


def test_transient_failures_are_not_attempts_until_their_deadline() -> None:
    policy = RetryPolicy(attempts=2, first_backoff_s=0)
    work = Flaky(*(TransientError("down") for _ in range(5)), ValueError("bad"))
    assert retry.call(policy.start("test"), work) == "done"  # five transient and one real failure: within 2 attempts
    assert work.calls == 7
    expired = RetryPolicy(attempts=5, first_backoff_s=0, transient_for_s=-1)
    with pytest.raises(TransientError):
        retry.call(expired.start("test"), Flaky(TransientError("down")))


def test_failures_that_no_retry_mends_are_raised_at_once() -> None:
    policy = RetryPolicy(attempts=5, first_backoff_s=0, never=(KeyError,))
    work = Flaky(KeyError("gone"))
    with pytest.raises(KeyError):
        retry.call(policy.start("test"), work)
    assert work.calls == 1


def test_the_pause_doubles_up_to_the_ceiling() -> None:
    retrying = RetryPolicy(attempts=100, first_backoff_s=0.5).start("test")
    pauses = [retrying.pause_after(ValueError()) for _ in range(6)]
    assert pauses == [0.5, 1.0, 2.0, 4.0, MAX_BACKOFF_S, MAX_BACKOFF_S]


def test_the_async_call_retries_the_same_way() -> None:
    policy = RetryPolicy(attempts=2, first_backoff_s=0, transient=(OSError,))

    def attempt(work: Flaky) -> Callable[[], Awaitable[str]]:
        async def call() -> str:
            return work()

        return call

    recovers = attempt(Flaky(OSError("down"), ValueError("bad")))
    assert asyncio.run(retry.call_async(policy.start("test"), recovers)) == "done"
    with pytest.raises(ValueError, match="2"):
        asyncio.run(retry.call_async(policy.start("test"), attempt(Flaky(ValueError("1"), ValueError("2")))))
