"""Retry policies: exponential backoff with bounded jitter, retryable errors, attempts and the total deadline."""

from __future__ import annotations

import random

import pytest

from aios.connectors.errors import ConnectorConfigError, InvalidActionError, RemoteRefused, TransportError
from aios.connectors.policy import SMTP_RETRYABLE, RetryOverrides, RetryPolicy

POLICY = RetryPolicy(attempts=5, base_delay_s=1.0, max_delay_s=10.0, multiplier=2.0, jitter=0.2, deadline_s=60.0)


def test_delays_grow_exponentially_up_to_the_cap_within_the_jitter() -> None:
    rng = random.Random(7)
    for attempt, nominal in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 10.0), (9, 10.0)]:
        delays = [POLICY.delay_s(attempt, rng) for _ in range(200)]
        assert all(nominal * 0.8 <= d <= nominal * 1.2 for d in delays)
        assert max(delays) - min(delays) > nominal * 0.2, "jitter spreads retries"


def test_without_jitter_the_delay_is_exact() -> None:
    policy = RetryPolicy(base_delay_s=0.5, multiplier=3, jitter=0.0)
    assert [policy.delay_s(n) for n in (1, 2, 3)] == [0.5, 1.5, 4.5]


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (TransportError("connection refused"), True),
        (RemoteRefused("busy", 503), True),
        (RemoteRefused("slow down", 429), True),
        (RemoteRefused("bad request", 400), False),
        (RemoteRefused("gone", 410), False),
        (ConnectorConfigError("no url"), False),
        (InvalidActionError("no recipient"), False),
    ],
)
def test_which_errors_are_retried(error: Exception, retryable: bool) -> None:
    assert POLICY.retryable(error) is retryable  # type: ignore[arg-type]
    assert (POLICY.next_delay_s(error, 1, 0.0) is not None) is retryable  # type: ignore[arg-type]


def test_smtp_policy_retries_4xx_replies_only() -> None:
    policy = RetryPolicy(retryable_statuses=SMTP_RETRYABLE)
    assert policy.retryable(RemoteRefused("mailbox busy", 450))
    assert not policy.retryable(RemoteRefused("no such user", 550))


def test_attempts_are_counted_with_the_first() -> None:
    error = TransportError("down")
    assert POLICY.next_delay_s(error, 4, 0.0) is not None
    assert POLICY.next_delay_s(error, 5, 0.0) is None


def test_no_retry_would_start_after_the_deadline() -> None:
    error = TransportError("down")
    policy = RetryPolicy(attempts=100, base_delay_s=10.0, jitter=0.0, deadline_s=30.0)
    assert policy.next_delay_s(error, 1, 15.0) == 10.0
    assert policy.next_delay_s(error, 1, 25.0) is None


def test_tenant_overrides_replace_only_what_they_name() -> None:
    changed = POLICY.with_overrides(RetryOverrides(attempts=2, retryable_statuses=[409]))
    assert (changed.attempts, changed.base_delay_s, changed.deadline_s) == (2, 1.0, 60.0)
    assert changed.retryable(RemoteRefused("conflict", 409)) and not changed.retryable(RemoteRefused("busy", 503))
    assert POLICY.with_overrides(None) is POLICY
