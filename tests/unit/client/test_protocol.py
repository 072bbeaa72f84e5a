import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from aios.client.errors import EventNotFound, Reason, SubmitFailed, SubmitRejected
from aios.client.protocol import (
    Attempts,
    accepted_event_id,
    document_call,
    event_status,
    refusal_reasons,
    status_call,
    submit_call,
)
from aios.client.retry import RetryPolicy

URL = "http://ingest.test/v1/events"


def answer(
    status: int, body: Any = None, headers: dict[str, str] | None = None, method: str = "POST"
) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers, request=httpx.Request(method, URL))


def test_a_waiting_submit_asks_to_wait_and_reads_that_much_longer_events_and_documents_alike() -> None:
    plain = submit_call("t", "x").timeout(httpx.Timeout(10.0))
    for call in (submit_call("t", "x", wait=20), document_call(b"%PDF-1.7", "invoice", wait=20)):
        assert call.headers["Prefer"] == "wait=20" and uuid.UUID(call.headers["Idempotency-Key"])
        assert call.timeout(httpx.Timeout(10.0)).read == 30.0 and plain.read == 10.0
    assert "Prefer" not in document_call(b"%PDF-1.7").headers
    with pytest.raises(ValueError, match="0 or more"):
        document_call(b"%PDF-1.7", wait=-1)


def test_a_submit_gets_one_fresh_idempotency_key_unless_given() -> None:
    first, second = submit_call("support.ticket", "hi"), submit_call("support.ticket", "hi")
    assert uuid.UUID(first.headers["Idempotency-Key"]).version == 4
    assert first.headers["Idempotency-Key"] != second.headers["Idempotency-Key"]
    assert submit_call("support.ticket", "hi", idempotency_key="bot-7:42").headers == {"Idempotency-Key": "bot-7:42"}


def test_the_body_carries_only_the_fields_given() -> None:
    assert submit_call("support.ticket", "hi").body == {"type": "support.ticket", "text": "hi"}
    when = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
    call = submit_call("invoice.received", "INV-1", {"vendor": "V-9"}, None, "erp-1", when)
    assert (call.method, call.path) == ("POST", "/v1/events")
    assert call.body == {
        "type": "invoice.received",
        "text": "INV-1",
        "attributes": {"vendor": "V-9"},
        "source_ref": "erp-1",
        "occurred_at": "2025-03-01T09:30:00+00:00",
    }
    assert submit_call("t", "x", occurred_at="2025-03-01T09:30:00Z").body == {
        "type": "t",
        "text": "x",
        "occurred_at": "2025-03-01T09:30:00Z",
    }


def test_status_paths_escape_the_event_id() -> None:
    assert status_call("a/b c").path == "/v1/events/a%2Fb%20c"


def test_field_problems_become_reasons_without_fastapis_body_prefix() -> None:
    response = answer(
        400,
        {
            "detail": [
                {"loc": ["body", "attributes", "customer"], "msg": "String should have at most 1024 characters"},
                {"loc": ["type"], "msg": "String should match pattern", "type": "string_pattern_mismatch"},
            ]
        },
    )
    assert refusal_reasons(response) == (
        Reason("attributes.customer", "String should have at most 1024 characters"),
        Reason("type", "String should match pattern"),
    )
    assert str(refusal_reasons(response)[0]) == "attributes.customer: String should have at most 1024 characters"


def test_a_plain_detail_is_one_reason_for_the_whole_request() -> None:
    assert refusal_reasons(answer(401, {"detail": "unknown API key"})) == (Reason("", "unknown API key"),)


@pytest.mark.parametrize("body", [None, [], {"detail": []}, {"error": "x"}])
def test_an_unexpected_refusal_body_still_gives_a_reason(body: Any) -> None:
    assert refusal_reasons(answer(413, body)) == (Reason("", "Request Entity Too Large"),)


def test_a_text_refusal_body_still_gives_a_reason() -> None:
    response = httpx.Response(415, text="nope", request=httpx.Request("POST", URL))
    assert refusal_reasons(response) == (Reason("", "Unsupported Media Type"),)


def test_202_gives_the_event_id() -> None:
    assert accepted_event_id(answer(202, {"event_id": "e-1", "status_url": "u"}), 1) == "e-1"


@pytest.mark.parametrize("status", [400, 401, 413, 415, 422])
def test_client_errors_are_rejections_with_reasons(status: int) -> None:
    with pytest.raises(SubmitRejected) as raised:
        accepted_event_id(answer(status, {"detail": "bad"}), 1)
    assert raised.value.status_code == status
    assert raised.value.reasons == (Reason("", "bad"),)


@pytest.mark.parametrize(
    "response",
    [answer(500, {"detail": "boom"}), answer(202, {"status_url": "u"}), answer(202, ["e-1"])],
    ids=["server-error", "no-event-id", "not-an-object"],
)
def test_answers_without_a_definite_outcome_are_failures(response: httpx.Response) -> None:
    with pytest.raises(SubmitFailed):
        accepted_event_id(response, 3)


def test_status_404_is_event_not_found() -> None:
    with pytest.raises(EventNotFound):
        event_status(answer(404, {"detail": "no such event for this tenant"}, method="GET"), 1)
    assert event_status(answer(200, {"stage": "received"}, method="GET"), 1) == {"stage": "received"}


def test_not_now_answers_wait_at_least_retry_after_then_give_up() -> None:
    attempts = Attempts(RetryPolicy(max_attempts=3), submit_call("t", "x"), rand=lambda: 0.0)
    assert attempts.after_answer(answer(429, headers={"Retry-After": "2"})) == 2.0
    assert attempts.after_answer(answer(503)) == 0.0
    with pytest.raises(SubmitFailed) as raised:
        attempts.after_answer(answer(503))
    assert (raised.value.attempts, raised.value.last_status) == (3, 503)


def test_final_answers_are_handed_back_at_once() -> None:
    attempts = Attempts(RetryPolicy(), submit_call("t", "x"))
    assert attempts.after_answer(answer(400, {"detail": "bad"})) is None
    assert attempts.count == 1


def test_errors_are_retried_and_the_last_one_is_the_cause_when_giving_up() -> None:
    attempts = Attempts(RetryPolicy(max_attempts=2, base_delay_s=1.0), submit_call("t", "x"), rand=lambda: 0.5)
    assert attempts.after_error(httpx.ConnectError("refused")) == 0.5
    last = httpx.ReadTimeout("slow")
    with pytest.raises(SubmitFailed) as raised:
        attempts.after_error(last)
    assert raised.value.__cause__ is last
    assert raised.value.last_status is None
