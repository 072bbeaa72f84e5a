from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from aios.client.retry import RetryPolicy, parse_retry_after, retryable_status

POLICY = RetryPolicy(max_attempts=10, base_delay_s=0.2, max_delay_s=20.0)


def test_the_backoff_ceiling_doubles_per_attempt_until_max_delay() -> None:
    ceilings = [POLICY.delay(attempt, rand=lambda: 1.0) for attempt in range(1, 10)]
    assert ceilings == pytest.approx([0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 20.0, 20.0])


def test_full_jitter_stays_between_zero_and_the_ceiling() -> None:
    for attempt in range(1, 10):
        ceiling = POLICY.delay(attempt, rand=lambda: 1.0)
        assert POLICY.delay(attempt, rand=lambda: 0.0) == 0.0
        assert all(0.0 <= POLICY.delay(attempt) <= ceiling for _ in range(200))


def test_retry_after_is_a_floor_above_the_clients_own_ceiling() -> None:
    assert POLICY.delay(1, retry_after_s=30.0, rand=lambda: 1.0) == 30.0
    assert POLICY.delay(8, retry_after_s=1.0, rand=lambda: 1.0) == 20.0


def test_retry_after_is_capped_so_a_bad_header_cannot_stall_the_bot() -> None:
    assert POLICY.delay(1, retry_after_s=86_400.0) == 60.0


def test_a_huge_attempt_number_does_not_overflow() -> None:
    assert POLICY.delay(5000, rand=lambda: 1.0) == 20.0


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_not_now_answers_are_retried(status: int) -> None:
    assert retryable_status(status)


@pytest.mark.parametrize("status", [200, 202, 400, 401, 404, 409, 413, 415, 422, 500])
def test_other_answers_are_final(status: int) -> None:
    assert not retryable_status(status)


def test_retry_after_parses_seconds_and_http_dates() -> None:
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("1") == 1.0
    assert parse_retry_after(" 2.5 ") == 2.5
    assert parse_retry_after("Wed, 01 Jan 2025 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Wed, 01 Jan 2025 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("-3") == 0.0


@pytest.mark.parametrize("value", [None, "", "soon", "Wed, 99 Foo 2025"])
def test_absent_or_garbled_retry_after_is_ignored(value: str | None) -> None:
    assert parse_retry_after(value) is None


def test_a_policy_without_attempts_is_refused() -> None:
    with pytest.raises(ValidationError):
        RetryPolicy(max_attempts=0)
