"""A submit that waits: the Prefer header, room in the timeout for the server's wait, the answer read."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from aios.client.errors import SubmitRejected
from aios.client.protocol import Submitted, submit_call, submitted

URL = "http://ingest.test/v1/events"
DECIDED = {"kind": "decided", "final": True, "actions": []}


def answer(status: int, body: Any) -> httpx.Response:
    return httpx.Response(status, json=body, request=httpx.Request("POST", URL))


def test_wait_asks_the_server_to_hold_the_answer_and_gives_the_read_that_much_more_time() -> None:
    call = submit_call("support.ticket", "hi", idempotency_key="k", wait=5)
    assert call.headers == {"Idempotency-Key": "k", "Prefer": "wait=5"}
    timeout = call.timeout(httpx.Timeout(10.0))
    assert (timeout.connect, timeout.read, timeout.write) == (10.0, 15.0, 10.0)
    plain = submit_call("support.ticket", "hi")
    assert "Prefer" not in plain.headers and plain.timeout(httpx.Timeout(10.0)) == httpx.Timeout(10.0)
    with pytest.raises(ValueError, match="0 or more"):
        submit_call("support.ticket", "hi", wait=-1)


def test_200_carries_the_outcome_and_202_none() -> None:
    body = {"event_id": "e1", "status_url": "http://x/v1/events/e1"}
    assert submitted(answer(200, {**body, "outcome": DECIDED}), 1) == Submitted("e1", body["status_url"], DECIDED)
    assert submitted(answer(202, body), 1) == Submitted("e1", body["status_url"], None)
    with pytest.raises(SubmitRejected):
        submitted(answer(400, {"detail": "bad"}), 1)
