"""`AiosClient`: submit events to the ingest API from a blocking program (an RPA bot's script)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, overload

import httpx

from aios.client.protocol import (
    ApiCall,
    Attempts,
    Submitted,
    accepted_event_id,
    client_headers,
    document_call,
    event_status,
    status_call,
    submit_call,
    submitted,
)
from aios.client.retry import RETRYABLE_ERRORS, RetryPolicy


class AiosClient:
    """A connection pool to one ingest API with one API key; retries are safe (one idempotency key per submit)."""

    def __init__(
        self, base_url: str, api_key: str, *, retry: RetryPolicy = RetryPolicy(), timeout_s: float = 10.0
    ) -> None:
        self.retry = retry
        self._http = httpx.Client(base_url=base_url, headers=client_headers(api_key), timeout=timeout_s)

    @overload
    def submit(
        self,
        type: str,
        text: str,
        attributes: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        source_ref: str | None = None,
        occurred_at: datetime | str | None = None,
        *,
        wait: None = None,
    ) -> str: ...

    @overload
    def submit(
        self,
        type: str,
        text: str,
        attributes: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        source_ref: str | None = None,
        occurred_at: datetime | str | None = None,
        *,
        wait: int,
    ) -> Submitted: ...

    def submit(
        self,
        type: str,
        text: str,
        attributes: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        source_ref: str | None = None,
        occurred_at: datetime | str | None = None,
        *,
        wait: int | None = None,
    ) -> str | Submitted:
        """Submit one event; returns its event id. Raises `SubmitRejected` or `SubmitFailed`.

        With `wait` (seconds): returns `Submitted`, with the event's outcome if it came within `wait`
        (the server may allow less), else with none.
        """
        call = submit_call(type, text, attributes, idempotency_key, source_ref, occurred_at, wait=wait)
        response, attempts = self._send(call)
        return accepted_event_id(response, attempts) if wait is None else submitted(response, attempts)

    @overload
    def submit_document(
        self,
        document: str | Path | bytes,
        type: str = "auto",
        attributes: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        source_ref: str | None = None,
        *,
        wait: None = None,
    ) -> str: ...

    @overload
    def submit_document(
        self,
        document: str | Path | bytes,
        type: str = "auto",
        attributes: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        source_ref: str | None = None,
        *,
        wait: int,
    ) -> Submitted: ...

    def submit_document(
        self,
        document: str | Path | bytes,
        type: str = "auto",
        attributes: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        source_ref: str | None = None,
        *,
        wait: int | None = None,
    ) -> str | Submitted:
        """Submit one document (a path or its bytes; PDF, PNG, JPEG or TIFF) as `invoice`, `claim` or `auto`;
        returns its event id (with `wait`: `Submitted`, as `submit`). Raises `SubmitRejected` or `SubmitFailed`."""
        call = document_call(document, type, attributes, idempotency_key, source_ref, wait=wait)
        response, attempts = self._send(call)
        return accepted_event_id(response, attempts) if wait is None else submitted(response, attempts)

    def status(self, event_id: str) -> dict[str, Any]:
        """What the API knows of an event. Raises `EventNotFound` for an id this tenant does not have."""
        response, attempts = self._send(status_call(event_id))
        return event_status(response, attempts)

    def _send(self, call: ApiCall) -> tuple[httpx.Response, int]:
        """The first final answer to `call`, and how many attempts it took."""
        attempts = Attempts(self.retry, call)
        while True:
            try:
                response = self._http.request(
                    call.method,
                    call.path,
                    headers=call.headers,
                    **call.request_content(),
                    timeout=call.timeout(self._http.timeout),
                )
            except RETRYABLE_ERRORS as exc:
                time.sleep(attempts.after_error(exc))
                continue
            pause = attempts.after_answer(response)
            if pause is None:
                return response, attempts.count
            time.sleep(pause)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AiosClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
