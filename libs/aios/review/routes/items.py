"""The queue and one item's page: claim, release, and complete with a verdict that resumes the pipeline."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from aios.documents.feedback import ReviewedDocument
from aios.kafka.tracefield import trace_field
from aios.observability import metrics
from aios.observability.tracing import resumed_span
from aios.review.documents import DocumentView, read_corrections
from aios.review.errors import InvalidVerdict
from aios.review.parts import SERVICE
from aios.review.routes.documents import document_of
from aios.review.settings import ReviewSettings
from aios.review.store import Item, ReviewStore, Verdict
from aios.review.web import FormSession, Parts, SignedIn, page

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
async def queue(request: Request, parts: Parts, session: SignedIn, done: str | None = None) -> Response:
    if session is None:
        return RedirectResponse("/login", status_code=303)
    items = await parts.store.queue(session.reviewer.tenant_id)
    now = datetime.now(UTC)
    notice = f"Review {done} completed; the decision is on its way." if done else None
    overdue = sum(item.overdue(now) for item in items)
    return page(request, "queue.html", session=session, items=items, overdue=overdue, notice=notice)


@router.get("/items/{review_id}", response_class=HTMLResponse)
async def item_page(request: Request, parts: Parts, session: SignedIn, review_id: str, rows: int = 1) -> Response:
    """`rows`: how many empty line-item rows a document's form offers for items the extractor missed."""
    if session is None:
        return RedirectResponse("/login", status_code=303)
    item = await parts.store.item(session.reviewer.tenant_id, review_id)
    return page(
        request,
        "item.html",
        session=session,
        item=item,
        labels=await _labels(parts.store, item),
        claim_minutes=parts.settings.claim_ttl_s // 60,
        document=await document_of(parts, item),
        empty_rows=max(1, min(rows, 20)),
    )


@router.post("/items/{review_id}/claim")
async def claim(parts: Parts, session: FormSession, review_id: str) -> Response:
    await parts.store.claim(session.reviewer, review_id, parts.settings.claim_ttl_s)
    return RedirectResponse(f"/items/{review_id}", status_code=303)


@router.post("/items/{review_id}/release")
async def release(parts: Parts, session: FormSession, review_id: str) -> Response:
    await parts.store.release(session.reviewer, review_id)
    return RedirectResponse(f"/items/{review_id}", status_code=303)


@router.post("/items/{review_id}/complete")
async def complete(
    request: Request,
    parts: Parts,
    session: FormSession,
    review_id: str,
    *,
    verdict: str = Form(...),
    edited_draft: str | None = Form(None),
    corrected_label: str | None = Form(None),
    reason: str = Form(""),
) -> Response:
    submitted = Verdict(verdict, corrected_label, edited_draft, reason.strip())
    _check_lengths(submitted, parts.settings)
    item = await parts.store.item(session.reviewer.tenant_id, review_id)
    reviewed = await _reviewed_document(request, parts, item, session.reviewer.username)
    parent = {k: str(v) for k, v in item.request["trace"].items() if v}
    # Hours may have passed since the request: the verdict is a span of the event's trace linked to
    # the one that asked for review, never one span covering the wait.
    with resumed_span(SERVICE, f"{SERVICE} verdict", parent, "review") as carrier:
        trace = trace_field(carrier)
    done = await parts.store.complete(session.reviewer, review_id, submitted, trace, reviewed)
    parts.outbox.wake()
    metrics.REVIEW_COMPLETED.labels(SERVICE, verdict).inc()
    if reviewed is not None:
        for field in reviewed.corrected:
            metrics.REVIEW_FIELD_CORRECTIONS.labels(SERVICE, item.tenant_id, reviewed.document_type, field).inc()
    if done.completed_at is not None:
        waited = (done.completed_at - done.requested_at).total_seconds()
        metrics.REVIEW_TIME_TO_COMPLETE_SECONDS.labels(SERVICE).observe(waited)
    return RedirectResponse(f"/?done={review_id}", status_code=303)


def _check_lengths(verdict: Verdict, settings: ReviewSettings) -> None:
    """Refuse a field over its limit, or one PostgreSQL text cannot hold: every verdict must fit one Kafka record."""
    for name, value, limit in (
        ("edited draft", verdict.edited_draft, settings.max_draft_chars),
        ("reason", verdict.reason, settings.max_reason_chars),
        ("corrected intent", verdict.corrected_label, settings.max_label_chars),
    ):
        if value and len(value) > limit:
            raise InvalidVerdict(f"the {name} has {len(value):,} characters; at most {limit:,} are accepted")
        if value and "\x00" in value:
            raise InvalidVerdict(f"the {name} contains a NUL character")


async def _reviewed_document(request: Request, parts: Parts, item: Item, reviewer: str) -> ReviewedDocument | None:
    """For a document, its fields and line items as the verdict form leaves them (unchanged where not sent)."""
    extraction = await parts.extractions.extraction(item.tenant_id, item.event_id)
    view = DocumentView.from_extraction(extraction) if extraction else None
    if view is None:
        return None
    form = {name: value for name, value in (await request.form()).items() if isinstance(value, str)}
    if not any(name.startswith("field.") for name in form):
        return None  # a verdict sent from another form than the document's: its fields were not reviewed
    corrections = read_corrections(view, form, parts.settings.max_field_chars)
    return corrections.example(view, item.review_id, item.tenant_id, item.event_id, reviewer)


async def _labels(store: ReviewStore, item: Item) -> list[str]:
    """Labels to relabel with: the deciding model's, else the ones its prediction listed."""
    classification = item.request["classification"]
    labels = await store.labels(classification["model_name"], int(classification["model_version"]))
    return labels or sorted({score["label"] for score in classification.get("top_k") or []} | {item.label})
