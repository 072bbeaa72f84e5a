"""`Prefer: wait=N` (RFC 7240) on the submission routes: answer with the event's outcome if it comes in time.

The event is accepted first, exactly as without the preference; only the answer differs: 200
with the outcome (`EventOutcome`) when the event reaches a final or waiting state within N
seconds (at most `max_wait_s`), else the usual 202. Either way `Preference-Applied` says how long
the edge waited. Any route that accepts an event answers through `SubmissionAnswers.answer`, e.g.
a FastAPI route: `return (await parts.answers.answer(event_id, tenant_id, request.headers)).response()`,
documented with `PREFER_HEADER` and `WAIT_RESPONSES` (`aios.ingest.submissions`).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import Headers
from starlette.responses import JSONResponse

from aios.ingest.errors import REDIS_UNAVAILABLE
from aios.ingest.models import Accepted, EventOutcome
from aios.outcomes.waiter import OutcomeWaiter

log = logging.getLogger(__name__)

_WAIT = re.compile(r'^\s*wait\s*=\s*"?(\d{1,9})"?\s*$', re.IGNORECASE)


def wait_preference(prefer: str | None) -> int | None:
    """N of the first `wait=N` among the (comma-joined) Prefer headers; None when absent or not a number
    (RFC 7240: a preference the server does not understand is ignored)."""
    if not prefer:
        return None
    for preference in prefer.split(","):
        # A preference's own parameters follow `;`; wait takes none.
        matched = _WAIT.match(preference.split(";")[0])
        if matched:
            return int(matched.group(1))
    return None


@dataclass(frozen=True)
class Answer:
    """What a submission route answers: its status, body and headers."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)

    def response(self) -> JSONResponse:
        return JSONResponse(self.body, status_code=self.status, headers=self.headers)


class SubmissionAnswers:
    """The answer to an accepted submission, waiting for its outcome when the caller prefers."""

    def __init__(self, waiter: OutcomeWaiter, base_url: str, max_wait_s: int) -> None:
        self.waiter = waiter
        self.base_url = base_url
        self.max_wait_s = max_wait_s

    def status_url(self, event_id: str) -> str:
        return f"{self.base_url}/v1/events/{event_id}"

    async def answer(self, event_id: str, tenant_id: str, headers: Headers) -> Answer:
        """The answer to the accepted event `event_id`, waiting as the request's `Prefer` headers ask."""
        accepted = Accepted(event_id=event_id, status_url=self.status_url(event_id))
        wait_s = wait_preference(", ".join(headers.getlist("prefer")))
        if wait_s is None:
            return Answer(202, accepted.model_dump())
        wait_s = min(wait_s, self.max_wait_s)
        applied = {"Preference-Applied": f"wait={wait_s}"}
        try:
            outcome = await self.waiter.wait(event_id, tenant_id, wait_s) if wait_s > 0 else None
        except REDIS_UNAVAILABLE as exc:
            # The event is accepted: the caller learns that, not an error that would make it resend.
            log.warning("event %s accepted, but its outcome could not be awaited: %s", event_id, exc)
            outcome = None
        if outcome is None:
            return Answer(202, accepted.model_dump(), applied)
        body = EventOutcome(event_id=event_id, status_url=accepted.status_url, outcome=outcome)
        return Answer(200, body.model_dump(mode="json"), applied)
