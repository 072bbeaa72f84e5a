"""The ingest API as the SDK speaks it, without I/O: requests to send, answers read, retry decisions.

`AiosClient` and `AsyncAiosClient` only send and sleep; everything they decide comes from here,
so the two cannot drift apart.
"""

from __future__ import annotations

import json
import mimetypes
import random
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from aios.client.errors import EventNotFound, Reason, SubmitFailed, SubmitRejected
from aios.client.retry import RetryPolicy, parse_retry_after, retryable_status

USER_AGENT = "aios-client/1"


@dataclass(frozen=True)
class ApiCall:
    """One logical request; every attempt of it sends exactly this."""

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    """A JSON body."""
    form: dict[str, str] | None = None
    """A multipart body's fields, with `files`."""
    files: dict[str, tuple[str, bytes, str]] | None = None
    """A multipart body's files: field → (file name, bytes, media type)."""
    wait_s: int = 0
    """How long the server may hold the answer (`Prefer: wait`): each attempt's timeout is longer by that much."""

    def timeout(self, base: httpx.Timeout) -> httpx.Timeout:
        """`base` with room for the server's wait while the answer is read."""
        if not self.wait_s or base.read is None:
            return base
        return httpx.Timeout(base.connect, read=base.read + self.wait_s, write=base.write, pool=base.pool)

    def request_content(self) -> dict[str, Any]:
        """httpx's keyword arguments for this call's body."""
        if self.files is not None:
            return {"data": self.form, "files": self.files}
        return {"json": self.body}


@dataclass(frozen=True)
class Submitted:
    """The answer to a submit that waited: the event, and its outcome if it came in time."""

    event_id: str
    status_url: str
    outcome: dict[str, Any] | None
    """`kind` (decided, rejected, review_requested, dead_lettered), `final`, and the decision with its actions'
    results, the review or the dead letter; None when the wait ran out first (the event is accepted all the same:
    `status(event_id)` tells more later)."""


def client_headers(api_key: str) -> dict[str, str]:
    """Headers every request of a client carries."""
    return {"Authorization": f"Bearer {api_key}", "User-Agent": USER_AGENT}


def submit_call(
    type_: str,
    text: str,
    attributes: Mapping[str, str] | None = None,
    idempotency_key: str | None = None,
    source_ref: str | None = None,
    occurred_at: datetime | str | None = None,
    *,
    wait: int | None = None,
) -> ApiCall:
    """`POST /v1/events`, with a fresh idempotency key when the caller gave none.

    The key is fixed here, once per logical submit, so the client's own retries can never make a
    second event (and a retry of a waiting submit gets that event's outcome). Optional fields left
    out are not sent, so the server's defaults apply. `wait`: ask the server to answer with the
    outcome if it comes within that many seconds.
    """
    body: dict[str, Any] = {"type": type_, "text": text}
    if attributes:
        body["attributes"] = dict(attributes)
    if source_ref is not None:
        body["source_ref"] = source_ref
    if occurred_at is not None:
        body["occurred_at"] = occurred_at.isoformat() if isinstance(occurred_at, datetime) else occurred_at
    headers = submit_headers(idempotency_key, wait)
    return ApiCall("POST", "/v1/events", headers, body, wait_s=wait or 0)


def submit_headers(idempotency_key: str | None, wait: int | None) -> dict[str, str]:
    """The key fixed once per logical submit (a fresh one when none is given), and `Prefer: wait` when asked."""
    headers = {"Idempotency-Key": idempotency_key or str(uuid.uuid4())}
    if wait is not None:
        if wait < 0:
            raise ValueError("wait must be 0 or more seconds")
        headers["Prefer"] = f"wait={wait}"
    return headers


def document_call(
    document: str | Path | bytes,
    type_: str = "auto",
    attributes: Mapping[str, str] | None = None,
    idempotency_key: str | None = None,
    source_ref: str | None = None,
    *,
    wait: int | None = None,
) -> ApiCall:
    """`POST /v1/documents` of a file (its path) or its bytes, with a fresh idempotency key when none is given.

    The file is read once, here, so every retry sends the same bytes under the same key. `wait` as for
    `submit_call`: the outcome is that of the event the document becomes once read.
    """
    if isinstance(document, bytes):
        name, data, media_type = "document", document, "application/octet-stream"
    else:
        path = Path(document)
        name, data = path.name, path.read_bytes()
        media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    form = {"type": type_}
    if attributes:
        form["attributes"] = json.dumps(dict(attributes))
    if source_ref is not None:
        form["source_ref"] = source_ref
    headers = submit_headers(idempotency_key, wait)
    files = {"file": (name, data, media_type)}
    return ApiCall("POST", "/v1/documents", headers, form=form, files=files, wait_s=wait or 0)


def status_call(event_id: str) -> ApiCall:
    return ApiCall("GET", f"/v1/events/{quote(event_id, safe='')}")


def refusal_reasons(response: httpx.Response) -> tuple[Reason, ...]:
    """The reasons in a refusal body: `{"detail": [{"loc", "msg", ...}]}`, `{"detail": str}`, or anything else."""
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    if isinstance(detail, str):
        return (Reason("", detail),)
    if isinstance(detail, list) and detail:
        return tuple(_field_reason(problem) for problem in detail)
    return (Reason("", response.reason_phrase or f"HTTP {response.status_code}"),)


def _field_reason(problem: Any) -> Reason:
    if not isinstance(problem, dict):
        return Reason("", str(problem))
    loc = [str(part) for part in problem.get("loc") or []]
    # FastAPI prefixes request-body locations with "body"; the caller knows no such field.
    if loc[:1] == ["body"]:
        loc = loc[1:]
    return Reason(".".join(loc), str(problem.get("msg", problem)))


def _final_json(response: httpx.Response, attempts: int) -> dict[str, Any]:
    """The JSON object of a final answer, or the error that answer means."""
    if 400 <= response.status_code < 500:
        raise SubmitRejected(response.status_code, refusal_reasons(response))
    if not response.is_success:
        raise SubmitFailed(f"HTTP {response.status_code} from {response.url}", attempts, response.status_code)
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise SubmitFailed(f"HTTP {response.status_code} from {response.url} without a JSON object", attempts)
    return data


def accepted_event_id(response: httpx.Response, attempts: int) -> str:
    """The event id of a 202, or the error the answer means."""
    event_id = _final_json(response, attempts).get("event_id")
    if not isinstance(event_id, str):
        raise SubmitFailed(f"HTTP {response.status_code} from {response.url} without an event_id", attempts)
    return event_id


def submitted(response: httpx.Response, attempts: int) -> Submitted:
    """The event and its outcome (200) or the event alone (202), or the error the answer means."""
    data = _final_json(response, attempts)
    event_id, status_url = data.get("event_id"), data.get("status_url")
    if not isinstance(event_id, str) or not isinstance(status_url, str):
        raise SubmitFailed(f"HTTP {response.status_code} from {response.url} without an event_id", attempts)
    outcome = data.get("outcome") if response.status_code == 200 else None
    return Submitted(event_id, status_url, outcome if isinstance(outcome, dict) else None)


def event_status(response: httpx.Response, attempts: int) -> dict[str, Any]:
    """The status object of a 200, or the error the answer means."""
    if response.status_code == 404:
        raise EventNotFound(404, refusal_reasons(response))
    return _final_json(response, attempts)


class Attempts:
    """The attempts of one logical call: counts them and, after each, says whether and how long to wait.

    The clients loop: send; on an answer call `after_answer` (None: final, read it), on a
    retryable error call `after_error`; sleep the seconds returned. Both raise `SubmitFailed`
    once `max_attempts` are spent.
    """

    def __init__(self, policy: RetryPolicy, call: ApiCall, rand: Callable[[], float] = random.random) -> None:
        self.policy = policy
        self.call = call
        self.rand = rand
        self.count = 0

    def after_answer(self, response: httpx.Response) -> float | None:
        self.count += 1
        if not retryable_status(response.status_code):
            return None
        if self.count >= self.policy.max_attempts:
            raise self._gave_up(f"HTTP {response.status_code}", response.status_code)
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return self.policy.delay(self.count, retry_after, self.rand)

    def after_error(self, error: Exception) -> float:
        self.count += 1
        if self.count >= self.policy.max_attempts:
            raise self._gave_up(f"{type(error).__name__}: {error}", None) from error
        return self.policy.delay(self.count, None, self.rand)

    def _gave_up(self, last: str, status: int | None) -> SubmitFailed:
        message = f"{self.call.method} {self.call.path} gave up after {self.count} attempts; last: {last}"
        return SubmitFailed(message, self.count, status)
