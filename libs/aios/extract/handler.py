"""One batch of stored documents: read each, find its duplicates, keep it, and send it on.

Each document gives two records: `DocumentExtracted` on its own topic (everything that was read)
and an ordinary `EventReceived` (its text, its fields as `field_<name>` attributes and the
document's reference as `document_*` attributes), so classify, retrieve-generate, decide, review
and audit take it like any other event. A document that cannot be read still gives both, with
the reason in `review_reason` and the `document_review_reason` attribute, for policy to send to a
person: no document is ever dropped.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from aios.documents.models import DocumentExtraction
from aios.extract.index import DocumentIndex, DocumentKeys, Duplicate, vendor_key
from aios.extract.reader import BudgetedReader, Unread
from aios.extract.settings import ExtractSettings
from aios.kafka.errors import TransientError
from aios.kafka.records import InputRecord, OutputRecord
from aios.objects.errors import DocumentCorrupted, DocumentNotFound, ObjectStoreError
from aios.objects.store import DocumentStore
from aios.observability import metrics
from aios.schemas.records import (
    DocumentCheck,
    DocumentExtracted,
    DocumentReceived,
    EventReceived,
    ExtractedField,
    ExtractedLineItem,
    TraceContext,
)

log = logging.getLogger(__name__)


class ExtractHandler:
    def __init__(
        self,
        settings: ExtractSettings,
        store: DocumentStore,
        reader: BudgetedReader,
        index: DocumentIndex,
        run: Callable[[Awaitable[Any]], Any],
        *,
        service: str = "extract",
    ) -> None:
        self.service = service
        self.settings = settings
        self.store = store
        self.reader = reader
        self.index = index
        self.run = run

    def __call__(self, records: list[InputRecord]) -> Iterator[OutputRecord]:
        for record in records:
            yield from self.handle(record)

    def handle(self, record: InputRecord) -> list[OutputRecord]:
        received = DocumentReceived.from_avro(record.value)
        reference = received.document
        read = self._read(received)
        extracted_at = datetime.now(UTC)
        if isinstance(read, Unread):
            extracted = _unread_record(received, read, extracted_at, record.trace_field())
            keys = DocumentKeys(reference.sha256, None, None, None, None)
        else:
            keys = _keys(reference.sha256, read)
            _count_pages(self.service, read)
            extracted = _extracted_record(received, read, extracted_at, record.trace_field())
        duplicate = self.run(
            self.index.earlier_duplicate(reference.tenant_id, received.event_id, received.received_at, keys)
        )
        extracted = _with_verdict(extracted, duplicate)
        self.run(
            self.index.record(
                reference.tenant_id,
                received.event_id,
                received.received_at,
                extracted.document_type,
                keys,
                _shown(extracted),
            )
        )
        log.info(
            "%s[%d]@%d event %s: %s%s",
            record.topic,
            record.partition,
            record.offset,
            received.event_id,
            extracted.document_type,
            f", to review: {extracted.review_reason}" if extracted.review_reason else "",
        )
        event = _as_event(received, extracted, record)
        return [
            record.output(self.settings.extracted_topic, extracted.to_avro()),
            record.output(self.settings.events_topic, event.to_avro()),
        ]

    def _read(self, received: DocumentReceived) -> DocumentExtraction | Unread:
        reference = received.document
        try:
            data = self.run(self.store.get(reference.tenant_id, reference.sha256))
        except DocumentNotFound:
            return Unread("the stored document is gone (deleted, or past the tenant's retention)")
        except DocumentCorrupted:
            return Unread("the stored document was altered: it no longer opens or matches its SHA-256")
        except ObjectStoreError as exc:
            raise TransientError(f"object store unavailable: {exc}") from exc
        return self.reader.read(data, reference.media_type, received.declared_type)


def _count_pages(service: str, read: DocumentExtraction) -> None:
    ocr = len(set(read.ocr_pages))
    metrics.EXTRACT_PAGES.labels(service, read.document_type, "ocr").inc(ocr)
    metrics.EXTRACT_PAGES.labels(service, read.document_type, "text_layer").inc(max(0, read.page_count - ocr))


def _keys(sha256: str, read: DocumentExtraction) -> DocumentKeys:
    values = read.field_values()
    return DocumentKeys(
        sha256=sha256,
        content_fingerprint=read.content_fingerprint,
        vendor_key=vendor_key(values.get("vendor_tax_id"), values.get("vendor_name")),
        invoice_number=values.get("invoice_number") if read.document_type == "invoice" else None,
        claim_number=values.get("claim_number") if read.document_type == "claim" else None,
    )


def _extracted_record(
    received: DocumentReceived, read: DocumentExtraction, at: datetime, trace: TraceContext
) -> DocumentExtracted:
    fields = {
        name: ExtractedField(normalized=None, confidence=0.0, page=None, bbox=None)
        if found is None
        else ExtractedField(normalized=found.value, confidence=found.confidence, page=found.page, bbox=list(found.bbox))
        for name, found in read.fields.items()
    }
    failed = [check.name for check in read.checks if not check.passed]
    review_reason = None
    if read.document_type == "other":
        review_reason = "the document is neither an invoice nor a claim"
    elif failed:
        review_reason = f"checks failed: {', '.join(failed)}"
    return DocumentExtracted(
        event_id=received.event_id,
        tenant_id=received.tenant_id,
        document=received.document,
        declared_type=received.declared_type,
        document_type=read.document_type,
        type_confidence=read.type_confidence,
        text=read.text,
        fields=fields,
        line_items=[
            ExtractedLineItem(
                description=item.description, quantity=item.quantity, unit_price=item.unit_price, amount=item.amount
            )
            for item in read.line_items
        ],
        checks=[DocumentCheck(name=c.name, passed=c.passed, detail=c.detail or None) for c in read.checks],
        duplicate_of=None,
        review_reason=review_reason,
        ocr_engine=read.ocr_engine,
        extractor_version=read.extractor_version,
        timings_ms=dict(read.timings_ms),
        occurred_at=received.occurred_at,
        received_at=received.received_at,
        extracted_at=at,
        trace=trace,
    )


def _unread_record(received: DocumentReceived, unread: Unread, at: datetime, trace: TraceContext) -> DocumentExtracted:
    return DocumentExtracted(
        event_id=received.event_id,
        tenant_id=received.tenant_id,
        document=received.document,
        declared_type=received.declared_type,
        document_type="other",
        type_confidence=0.0,
        text="",
        fields={},
        line_items=[],
        checks=[],
        duplicate_of=None,
        review_reason=unread.reason,
        ocr_engine=None,
        extractor_version="none",
        timings_ms={},
        occurred_at=received.occurred_at,
        received_at=received.received_at,
        extracted_at=at,
        trace=trace,
    )


def _with_verdict(extracted: DocumentExtracted, duplicate: Duplicate | None) -> DocumentExtracted:
    """The duplicate check recorded among the checks; a duplicate goes to review naming the earlier event."""
    if duplicate is None:
        return dataclasses.replace(
            extracted, checks=[*extracted.checks, DocumentCheck(name="duplicate", passed=True, detail=None)]
        )
    detail = f"{duplicate.why.replace('_', ' ')} as event {duplicate.event_id}"
    reasons = [r for r in (extracted.review_reason, f"duplicate: {detail}") if r]
    return dataclasses.replace(
        extracted,
        checks=[*extracted.checks, DocumentCheck(name="duplicate", passed=False, detail=detail)],
        duplicate_of=duplicate.event_id,
        review_reason="; ".join(reasons),
    )


def _shown(extracted: DocumentExtracted) -> dict[str, Any]:
    """What `GET /v1/events/{id}` shows of the document (not its text)."""
    value = extracted.to_avro()
    shown = {key: value[key] for key in _SHOWN}
    shown["extracted_at"] = extracted.extracted_at.isoformat()
    return shown


_SHOWN = (
    "document",
    "declared_type",
    "document_type",
    "type_confidence",
    "fields",
    "line_items",
    "checks",
    "duplicate_of",
    "review_reason",
    "ocr_engine",
    "extractor_version",
    "timings_ms",
)


def _as_event(received: DocumentReceived, extracted: DocumentExtracted, record: InputRecord) -> EventReceived:
    """The document as the pipeline's ordinary event: its text, its reference and fields as attributes."""
    reference = received.document
    attributes = {
        **received.attributes,
        "document_sha256": reference.sha256,
        "document_object_key": reference.object_key,
        "document_media_type": reference.media_type,
        "document_pages": str(reference.pages),
        "document_type": extracted.document_type,
        **{f"field_{name}": f.normalized for name, f in extracted.fields.items() if f.normalized is not None},
    }
    if extracted.review_reason:
        attributes["document_review_reason"] = extracted.review_reason
    if extracted.duplicate_of:
        attributes["document_duplicate_of"] = extracted.duplicate_of
    text = extracted.text.strip() or f"[{extracted.document_type} document without readable text]"
    return EventReceived(
        event_id=received.event_id,
        tenant_id=received.tenant_id,
        occurred_at=received.occurred_at,
        type=f"document.{extracted.document_type}",
        text=text,
        attributes=attributes,
        received_at=received.received_at,
        source=received.source,
        source_ref=received.source_ref,
        idempotency_key=received.idempotency_key,
        trace=record.trace_field(),
    )
