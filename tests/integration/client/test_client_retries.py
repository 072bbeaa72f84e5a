"""The SDK against a real HTTP server: retries keep one idempotency key and wait as long as Retry-After says."""

from __future__ import annotations

import asyncio
import itertools
import socket
import time

import httpx
import pytest

from aios.client import AiosClient, AsyncAiosClient, EventNotFound, Reason, RetryPolicy, SubmitFailed, SubmitRejected
from tests.support.scripted_ingest import Answer, Arrival, ScriptedIngest, accept, scripted_ingest

API_KEY = "key-for-tests"


def busy_twice(arrival: Arrival, seen: int) -> Answer:
    if seen <= 2:
        return 429, {"detail": "quota spent"}, {"Retry-After": "1"}
    return accept(arrival, seen)


def assert_retry_after_waited(server: ScriptedIngest, key: str) -> None:
    times = [arrival.at for arrival in server.arrivals if arrival.idempotency_key == key]
    assert len(times) == 3
    assert all(later - earlier >= 0.95 for earlier, later in itertools.pairwise(times))


def test_sync_retries_reuse_one_key_and_honour_retry_after() -> None:
    with scripted_ingest(busy_twice) as server, AiosClient(server.url, API_KEY) as client:
        started = time.monotonic()
        event_id = client.submit("support.ticket", "charged twice", {"customer": "C-1"})
        assert time.monotonic() - started >= 2.0
        keys = set(server.keys())
        assert len(keys) == 1
        (key,) = keys
        assert key is not None
        assert event_id == f"ev-{key}"
        assert_retry_after_waited(server, key)
        assert {a.authorization for a in server.arrivals} == {f"Bearer {API_KEY}"}
        assert server.arrivals[0].body == {
            "type": "support.ticket",
            "text": "charged twice",
            "attributes": {"customer": "C-1"},
        }
        assert client.status(event_id) == {"event_id": event_id, "stage": "received"}
        with pytest.raises(EventNotFound):
            client.status("ev-unknown")


def test_async_submits_retry_concurrently_each_with_its_own_key() -> None:
    async def submit_three(url: str) -> list[str]:
        async with AsyncAiosClient(url, API_KEY) as client:
            return await asyncio.gather(*(client.submit("support.ticket", f"ticket {n}") for n in range(3)))

    with scripted_ingest(busy_twice) as server:
        started = time.monotonic()
        event_ids = asyncio.run(submit_three(server.url))
        assert 2.0 <= time.monotonic() - started < 5.0, "the three submits should wait side by side"
        keys = set(server.keys())
        assert len(keys) == 3 and len(server.arrivals) == 9
        assert sorted(event_ids) == sorted(f"ev-{key}" for key in keys)
        for key in keys:
            assert key is not None
            assert_retry_after_waited(server, key)


def test_a_given_idempotency_key_is_sent_as_is() -> None:
    with scripted_ingest() as server, AiosClient(server.url, API_KEY) as client:
        assert client.submit("support.ticket", "x", idempotency_key="bot-7:row-42") == "ev-bot-7:row-42"
        assert server.keys() == ["bot-7:row-42"]


def test_a_rejection_is_not_retried_and_carries_the_field_reasons() -> None:
    def invalid(arrival: Arrival, seen: int) -> Answer:
        return 400, {"detail": [{"loc": ["body", "type"], "msg": "String should match pattern", "type": "x"}]}, {}

    with scripted_ingest(invalid) as server, AiosClient(server.url, API_KEY) as client:
        with pytest.raises(SubmitRejected) as raised:
            client.submit("Not A Type", "x")
        assert raised.value.reasons == (Reason("type", "String should match pattern"),)
        assert len(server.arrivals) == 1


def test_an_unreachable_server_fails_after_max_attempts_with_the_connection_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"  # bound but not listening: connections are refused
        policy = RetryPolicy(max_attempts=3, base_delay_s=0.01)
        with AiosClient(url, API_KEY, retry=policy) as client, pytest.raises(SubmitFailed) as raised:
            client.submit("support.ticket", "x")
    assert raised.value.attempts == 3
    assert isinstance(raised.value.__cause__, httpx.ConnectError)
