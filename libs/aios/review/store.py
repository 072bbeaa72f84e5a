"""Review items in PostgreSQL: stored from `aios.review.requested`, claimed, completed exactly once.

Completing is one transaction: the item moves from pending to completed only if the reviewer
holds a live claim on it, and the same transaction writes the verdict to the outbox (for
`aios.review.completed`) and, for approvals and relabels, a labelled example for training (for a
document, also the fields and line items as the reviewer left them: `aios.documents.feedback`).
A second submission finds the item completed and changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from aios.documents.feedback import ReviewedDocument, store_example
from aios.kafka.topics import REVIEW_COMPLETED
from aios.keys.signing import RecordSigner
from aios.review.accounts import Reviewer
from aios.review.errors import InvalidVerdict, ItemNotFound, ReviewConflict
from aios.schemas.records import ExtractedLineItem, ReviewCompleted, ReviewRequested, TraceContext
from aios.schemas.timestamps import epoch_ms, from_epoch_ms

VERDICTS = ("APPROVE", "EDIT_APPROVE", "RELABEL", "REJECT")


def to_json(value: Any) -> Any:
    """A decoded Avro value as JSON: timestamps become epoch milliseconds."""
    if isinstance(value, datetime):
        return epoch_ms(value)
    if isinstance(value, Mapping):
        return {key: to_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    return value


@dataclass(frozen=True)
class Item:
    """One review item as the pages show it."""

    review_id: str
    tenant_id: str
    event_id: str
    status: str
    priority: int
    sla_deadline: datetime
    reason: str
    rule: str
    policy_version: str
    label: str
    confidence: float
    request: dict[str, Any]
    requested_at: datetime
    claimed_by: str | None
    """Username of the reviewer holding a live claim (an expired claim counts as none)."""
    claim_expires_at: datetime | None
    verdict: str | None
    completed_by: str | None
    completed_at: datetime | None

    def overdue(self, now: datetime) -> bool:
        return self.status == "pending" and self.sla_deadline < now

    def claimed_by_other(self, reviewer: Reviewer) -> bool:
        return self.claimed_by is not None and self.claimed_by != reviewer.username

    def claimed_by_me(self, reviewer: Reviewer) -> bool:
        return self.claimed_by == reviewer.username


_ITEM_COLUMNS = """
    i.review_id, i.tenant_id, i.event_id, i.status, i.priority, i.sla_deadline, i.reason, i.rule,
    i.policy_version, i.label, i.confidence, i.request, i.requested_at, i.verdict, i.completed_at,
    CASE WHEN i.claim_expires_at > now() THEN claimer.username END AS claimed_by,
    CASE WHEN i.claim_expires_at > now() THEN i.claim_expires_at END AS claim_expires_at,
    completer.username AS completed_by
FROM review_items i
LEFT JOIN reviewers claimer ON claimer.reviewer_id = i.claimed_by
LEFT JOIN reviewers completer ON completer.reviewer_id = i.completed_by
"""


def _item(row: asyncpg.Record) -> Item:
    values = dict(row)
    values["request"] = json.loads(values["request"])
    return Item(**values)


@dataclass(frozen=True)
class Verdict:
    """What a reviewer submitted."""

    verdict: str
    corrected_label: str | None = None
    edited_draft: str | None = None
    reason: str = ""

    def checked(self) -> Verdict:
        """This verdict, or InvalidVerdict saying what it lacks."""
        if self.verdict not in VERDICTS:
            raise InvalidVerdict(f"unknown verdict {self.verdict!r}")
        if self.verdict == "REJECT" and not self.reason.strip():
            raise InvalidVerdict("say why the event is rejected")
        if self.verdict == "RELABEL" and not (self.corrected_label or "").strip():
            raise InvalidVerdict("choose the right intent")
        if self.verdict == "EDIT_APPROVE" and not (self.edited_draft or "").strip():
            raise InvalidVerdict("the edited draft is empty")
        return self


class ReviewStore:
    """Needs the tables of migration `0005_decide_review`."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._verdicts = RecordSigner("review", REVIEW_COMPLETED.name)

    async def store_requests(self, requests: Iterable[ReviewRequested]) -> int:
        """Insert review requests; one already stored (a redelivery) is left as it is. Returns how many were new."""
        rows = [
            (
                request.review_id,
                request.tenant_id,
                request.event_id,
                request.priority,
                request.sla_deadline,
                request.reason,
                request.policy.rule,
                request.policy.version,
                request.classification.label,
                request.classification.confidence,
                json.dumps(to_json(request.to_avro())),
            )
            for request in requests
        ]
        async with self._pool.acquire() as conn, conn.transaction():
            inserted = 0
            for row in rows:
                result = await conn.execute(
                    "INSERT INTO review_items (review_id, tenant_id, event_id, priority, sla_deadline, reason, rule,"
                    " policy_version, label, confidence, request) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
                    " ON CONFLICT (review_id) DO NOTHING",
                    *row,
                )
                inserted += result == "INSERT 0 1"
        return inserted

    async def queue(self, tenant_id: str, limit: int = 200) -> list[Item]:
        """Pending items of the tenant: earliest deadline first, then most urgent priority."""
        rows = await self._pool.fetch(
            f"SELECT {_ITEM_COLUMNS} WHERE i.tenant_id = $1 AND i.status = 'pending'"
            " ORDER BY i.sla_deadline, i.priority, i.requested_at LIMIT $2",
            tenant_id,
            limit,
        )
        return [_item(row) for row in rows]

    async def item(self, tenant_id: str, review_id: str) -> Item:
        row = await self._pool.fetchrow(
            f"SELECT {_ITEM_COLUMNS} WHERE i.tenant_id = $1 AND i.review_id = $2",
            tenant_id,
            review_id,
        )
        if row is None:
            raise ItemNotFound(f"no review {review_id} for this tenant")
        return _item(row)

    async def claim(self, reviewer: Reviewer, review_id: str, ttl_s: int) -> datetime:
        """Lock the item for `reviewer` for `ttl_s` (again: extends it); refused while another's claim lives."""
        expires = await self._pool.fetchval(
            "UPDATE review_items SET claimed_by = $3, claim_expires_at = now() + make_interval(secs => $4)"
            " WHERE tenant_id = $1 AND review_id = $2 AND status = 'pending'"
            " AND (claimed_by IS NULL OR claimed_by = $3 OR claim_expires_at <= now())"
            " RETURNING claim_expires_at",
            reviewer.tenant_id,
            review_id,
            reviewer.reviewer_id,
            float(ttl_s),
        )
        if expires is None:
            raise self._refusal(await self.item(reviewer.tenant_id, review_id), reviewer)
        claimed_until: datetime = expires
        return claimed_until

    async def release(self, reviewer: Reviewer, review_id: str) -> None:
        await self._pool.execute(
            "UPDATE review_items SET claimed_by = NULL, claim_expires_at = NULL"
            " WHERE tenant_id = $1 AND review_id = $2 AND status = 'pending' AND claimed_by = $3",
            reviewer.tenant_id,
            review_id,
            reviewer.reviewer_id,
        )

    async def complete(
        self,
        reviewer: Reviewer,
        review_id: str,
        verdict: Verdict,
        trace: TraceContext,
        document: ReviewedDocument | None = None,
    ) -> Item:
        """Record the verdict, its outbox record and its labelled examples; at most once per item.

        `document` is the reviewed document's fields and line items; unless the verdict rejects the event,
        it is kept as a labelled example and the verdict carries what the reviewer changed.
        """
        verdict = verdict.checked()
        if verdict.verdict == "REJECT":
            document = None
        async with self._pool.acquire() as conn, conn.transaction():
            completed = await conn.fetchrow(
                "UPDATE review_items SET status = 'completed', verdict = $4, completed_by = $3, completed_at = now(),"
                " corrected_label = $5, edited_draft = $6, completion_reason = $7,"
                " claimed_by = NULL, claim_expires_at = NULL"
                " WHERE tenant_id = $1 AND review_id = $2 AND status = 'pending'"
                " AND claimed_by = $3 AND claim_expires_at > now()"
                " RETURNING event_id, label, request, completed_at",
                reviewer.tenant_id,
                review_id,
                reviewer.reviewer_id,
                verdict.verdict,
                verdict.corrected_label if verdict.verdict == "RELABEL" else None,
                verdict.edited_draft if verdict.verdict == "EDIT_APPROVE" else None,
                verdict.reason,
            )
            if completed is None:
                raise self._refusal(await self.item(reviewer.tenant_id, review_id), reviewer)
            request = json.loads(completed["request"])
            record = _completion_record(request, reviewer, verdict, completed["completed_at"], trace, document)
            await conn.execute(
                "INSERT INTO review_outbox (review_id, record) VALUES ($1, $2)",
                review_id,
                json.dumps(to_json(self._verdicts.signed(record.to_avro()))),
            )
            if verdict.verdict != "REJECT":
                label = verdict.corrected_label if verdict.verdict == "RELABEL" else completed["label"]
                await conn.execute(
                    "INSERT INTO labelled_examples (review_id, tenant_id, event_id, text, label, source, reviewer)"
                    " VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    review_id,
                    reviewer.tenant_id,
                    completed["event_id"],
                    request["text"],
                    label,
                    verdict.verdict,
                    reviewer.username,
                )
            if document is not None:
                await store_example(conn, document)
        return await self.item(reviewer.tenant_id, review_id)

    def _refusal(self, item: Item, reviewer: Reviewer) -> ReviewConflict:
        if item.status == "completed":
            when = item.completed_at.strftime("%Y-%m-%d %H:%M:%S UTC") if item.completed_at else "earlier"
            return ReviewConflict(f"this review was already completed ({item.verdict} by {item.completed_by}, {when})")
        if item.claimed_by_other(reviewer):
            return ReviewConflict(f"{item.claimed_by} is reviewing this item; their claim ends {item.claim_expires_at}")
        return ReviewConflict("claim the item first (your claim may have expired)")

    async def counts(self, now: datetime | None = None) -> dict[str, tuple[int, int]]:
        """(open, overdue) items per tenant."""
        rows = await self._pool.fetch(
            "SELECT tenant_id, count(*) AS open, count(*) FILTER (WHERE sla_deadline < $1) AS overdue"
            " FROM review_items WHERE status = 'pending' GROUP BY tenant_id",
            now or datetime.now(UTC),
        )
        return {row["tenant_id"]: (row["open"], row["overdue"]) for row in rows}

    async def oldest_waiting(self, now: datetime | None = None) -> dict[str, float]:
        """Seconds the oldest open item of each tenant has waited (the queue's age)."""
        rows = await self._pool.fetch(
            "SELECT tenant_id, extract(epoch FROM $1::timestamptz - min(requested_at))::float8 AS waited"
            " FROM review_items WHERE status = 'pending' GROUP BY tenant_id",
            now or datetime.now(UTC),
        )
        return {row["tenant_id"]: max(0.0, row["waited"]) for row in rows}

    async def labels(self, model_name: str, version: int) -> list[str]:
        """The labels of the model version that classified an item, for relabelling."""
        labels = await self._pool.fetchval(
            "SELECT labels FROM model_versions WHERE name = $1 AND version = $2", model_name, version
        )
        return sorted(labels or [])


def _completion_record(
    request: Mapping[str, Any],
    reviewer: Reviewer,
    verdict: Verdict,
    completed_at: datetime,
    trace: TraceContext,
    document: ReviewedDocument | None,
) -> ReviewCompleted:
    """The `aios.review.completed` record of a verdict on `request` (the stored JSON, timestamps in epoch ms)."""
    corrected = document.corrected if document else []
    changed = {name: document.fields[name] for name in corrected if document and name in document.fields}
    return ReviewCompleted(
        event_id=request["event_id"],
        tenant_id=request["tenant_id"],
        occurred_at=from_epoch_ms(request["occurred_at"]),
        review_id=request["review_id"],
        verdict=verdict.verdict,  # type: ignore[arg-type]  # Verdict.checked() allows only VERDICTS
        reviewer=reviewer.username,
        corrected_label=verdict.corrected_label if verdict.verdict == "RELABEL" else None,
        edited_draft=verdict.edited_draft if verdict.verdict == "EDIT_APPROVE" else None,
        reason=verdict.reason,
        completed_at=completed_at,
        trace=trace,
        corrected_fields=changed or None,
        line_items=[ExtractedLineItem(**item) for item in document.line_items]
        if document and "line_items" in corrected
        else None,
    )
