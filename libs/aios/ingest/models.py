"""The HTTP API's request and response bodies (they also make the OpenAPI document)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from aios.outcomes.model import Outcome


def _without_nul(value: str) -> str:
    """PostgreSQL text cannot hold NUL: an event carrying one would be accepted here and fail later,
    where review and search store or query its text."""
    if "\x00" in value:
        raise ValueError("must not contain NUL (\\u0000) characters")
    return value


OCCURRED_AT_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
OCCURRED_AT_AHEAD = timedelta(days=1)
"""How far past the server's clock `occurred_at` may lie (senders' clocks drift, events are not future)."""


def _in_window(value: datetime) -> datetime:
    """Every stage converts `occurred_at` to UTC milliseconds; a value that parses but lies outside what
    they can hold (year 1 at +14:00, year 9999 at -05:00) would be accepted here and fail after."""
    latest = datetime.now(UTC) + OCCURRED_AT_AHEAD
    if not OCCURRED_AT_EARLIEST <= value <= latest:
        raise ValueError(
            f"must lie between {OCCURRED_AT_EARLIEST.isoformat()} and one day after the server's clock"
            f" ({latest.isoformat(timespec='seconds')})"
        )
    return value


WithoutNul = AfterValidator(_without_nul)
Text = Annotated[str, WithoutNul]
EventType = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$", max_length=64)]
AttributeKey = Annotated[str, StringConstraints(min_length=1, max_length=64), WithoutNul]
AttributeValue = Annotated[str, StringConstraints(max_length=1024), WithoutNul]
SourceRef = Annotated[str, StringConstraints(max_length=256), WithoutNul]


class EventIn(BaseModel):
    """A business event as a bot or system sends it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "type": "support.ticket",
                    "text": "I was charged twice this month",
                    "attributes": {"customer": "C-1182"},
                }
            ]
        },
    )

    type: EventType = Field(description="What kind of event, dotted lower case, e.g. `support.ticket`.")
    text: Text = Field(
        min_length=1, max_length=100_000, description="The event's text, as a person wrote it (no NUL characters)."
    )
    attributes: dict[AttributeKey, AttributeValue] = Field(
        default_factory=dict, max_length=64, description="Extra string fields (customer id, channel, ...)."
    )
    source_ref: SourceRef | None = Field(default=None, description="The sender's own id for the event.")
    occurred_at: Annotated[AwareDatetime, AfterValidator(_in_window)] | None = Field(
        default=None,
        description="When it happened (ISO-8601 with a time zone), from 1970-01-01T00:00:00Z to one day after"
        " the server's clock; defaults to receipt time.",
    )


class Accepted(BaseModel):
    event_id: str = Field(description="The event's id in every AIOS topic.")
    status_url: str = Field(description="Where `GET` tells what is known of the event.")


class EventOutcome(BaseModel):
    """The answer to a submission that asked to wait (`Prefer: wait=N`) and whose event reached an outcome."""

    event_id: str = Field(description="The event's id in every AIOS topic.")
    status_url: str = Field(description="Where `GET` tells what is known of the event.")
    outcome: Outcome


class EventStatus(BaseModel):
    event_id: str
    tenant_id: str
    type: str
    stage: str = Field(description="The furthest stage the event reached: received, classified, ...")
    received_at: datetime
    stages: list[str] = Field(
        default_factory=list,
        description="Every stage reached, in pipeline order (received, classified, enriched, review_requested,"
        " reviewed, decided, acted, dead_lettered), as the audit trail records them.",
    )
    dead_letter_reason: str | None = Field(
        default=None, description="Why a stage could not process the event, when it was dead-lettered."
    )
    outcome: Outcome | None = Field(
        default=None, description="What became of the event, once it has reached a final or waiting state."
    )
    document: dict[str, Any] | None = Field(
        default=None,
        description="For a document, once extract has read it: its reference (sha256, media type, pages, object"
        " key), document_type, fields (normalized value, confidence, page, bbox), line_items, checks, duplicate_of,"
        " review_reason, ocr_engine, extractor_version and timings_ms.",
    )


class FieldProblem(BaseModel):
    loc: list[str | int] = Field(description='Where in the body: e.g. ["attributes", "customer"].')
    msg: str
    type: str


class Problem(BaseModel):
    """Every refusal: one reason, or one reason per invalid field."""

    detail: str | list[FieldProblem]


class Health(BaseModel):
    status: str
    checks: dict[str, bool] = Field(default_factory=dict)


REFUSALS: dict[int, str] = {
    400: "Invalid JSON or fields; `detail` lists each field's problem.",
    401: "Missing or unknown API key, or a bad webhook signature.",
    408: "The body did not arrive within the server's body timeout; the connection is closed.",
    413: "Body larger than the configured limit.",
    415: "Content-Type is not application/json.",
    422: "The Idempotency-Key was used for a different request.",
    429: "The tenant's quota is spent; see Retry-After.",
    503: "Kafka did not acknowledge in time, or Redis or PostgreSQL is unreachable; nothing was accepted. "
    "See Retry-After.",
}
"""Why a submission is refused, by status; each answer's body is a `Problem`."""
