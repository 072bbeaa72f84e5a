"""The one entry point: bytes in, a `DocumentExtraction` out (or `DocumentRejected` with the reason).

Steps, each timed: read (text layer or OCR) -> lines -> document type -> candidate values -> the extractor's
scores -> one value per field -> line items -> tick boxes -> checks -> content fingerprint.
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager

from aios.documents.candidates import (
    FIELD_KINDS,
    Candidate,
    DocumentContext,
    add_document_features,
    build_context,
    candidates_for,
)
from aios.documents.checks import run_checks
from aios.documents.doctype import document_type
from aios.documents.errors import DocumentRejected
from aios.documents.extractor import FieldExtractor, RuleExtractor
from aios.documents.layout import build_lines
from aios.documents.line_items import extract_line_items
from aios.documents.models import DeclaredType, DocumentExtraction, ExtractedField, fields_of
from aios.documents.ocr import OcrEngine, engine_named
from aios.documents.reading import ReadDocument, read_document
from aios.documents.settings import ExtractionSettings
from aios.documents.tickboxes import ticked_loss_type

__all__ = ["DocumentRejected", "ExtractionSettings", "FieldExtractor", "extract_document"]

FINGERPRINT_FIELDS: dict[str, tuple[str, ...]] = {
    "invoice": ("invoice_number", "invoice_date", "total", "currency"),
    "claim": ("claim_number", "policy_number", "date_of_loss", "claimed_amount"),
}
"""Key fields that a scan and its born-digital original share, whatever the bytes."""


@functools.cache
def _ocr_engine(name: str, threads: int) -> OcrEngine:
    return engine_named(name, threads)


def read(data: bytes, media_type: str, settings: ExtractionSettings) -> ReadDocument:
    """The pages of a document as positioned words (text layer, or OCR with the configured engine)."""
    return read_document(data, media_type, settings, _ocr_engine(settings.ocr_engine, settings.ocr_threads))


def extract_document(
    data: bytes,
    *,
    media_type: str,
    declared_type: DeclaredType,
    settings: ExtractionSettings | None = None,
    extractor: FieldExtractor | None = None,
) -> DocumentExtraction:
    """Read, classify and extract one document; raises `DocumentRejected` for a file that cannot be read."""
    settings = settings or ExtractionSettings()
    extractor = extractor or RuleExtractor()
    timings: dict[str, float] = {}
    with _timed(timings, "read"):
        document = read(data, media_type, settings)
    try:
        return _extract(document, declared_type, settings, extractor, timings)
    finally:
        document.close()


def lay_out(document: ReadDocument) -> DocumentContext:
    """Lines and segments of every page, numbered in reading order over the document."""
    start = 0
    for page in document.pages:
        page.lines = build_lines(page, start)
        start += len(page.lines)
    return build_context(document.pages)


def _extract(
    document: ReadDocument,
    declared_type: DeclaredType,
    settings: ExtractionSettings,
    extractor: FieldExtractor,
    timings: dict[str, float],
) -> DocumentExtraction:
    timings["ocr"] = round(document.ocr_ms, 2)
    with _timed(timings, "layout"):
        context = lay_out(document)
        text = "\n".join(line.text for line in context.lines)
        if declared_type == "auto":
            kind, type_confidence = document_type(text)
        else:
            kind, type_confidence = declared_type, 1.0
    with _timed(timings, "fields"):
        fields = select_fields(fields_of(kind), context, extractor, settings.min_field_confidence)
        if kind == "claim":
            ticked = ticked_loss_type(context, document.page_image)
            if ticked is not None:
                fields["loss_type"] = ticked
    with _timed(timings, "line_items"):
        line_items = extract_line_items(context) if kind == "invoice" else []
    values = {name: (f.value if f else None) for name, f in fields.items()}
    checks = run_checks(values, line_items)
    timings["total"] = round(sum(timings.values()) - timings["ocr"], 2)
    return DocumentExtraction(
        document_type=kind,  # type: ignore[arg-type]
        type_confidence=type_confidence,
        page_count=len(document.pages),
        text=text,
        fields=fields,
        line_items=line_items,
        checks=checks,
        ocr_engine=document.ocr_engine,
        ocr_pages=[p.number for p in document.pages if p.ocr],
        extractor_version=extractor.version,
        timings_ms=timings,
        content_fingerprint=content_fingerprint(kind, values, text),
    )


def candidates_by_kind(names: tuple[str, ...], context: DocumentContext) -> dict[str, list[Candidate]]:
    """The candidates of every kind of value the fields `names` take, with their document-level features."""
    by_kind: dict[str, list[Candidate]] = {}
    for name in names:
        kind = FIELD_KINDS[name]
        if kind not in by_kind:
            by_kind[kind] = candidates_for(kind, context)
            add_document_features(by_kind[kind])
    return by_kind


def select_fields(
    names: tuple[str, ...], context: DocumentContext, extractor: FieldExtractor, threshold: float
) -> dict[str, ExtractedField | None]:
    """One value per field: best scores first, each span used by one field only."""
    by_kind = candidates_by_kind(names, context)
    options: list[tuple[float, str, Candidate]] = []
    for name in names:
        kind = FIELD_KINDS[name]
        scores = extractor.score(name, by_kind[kind])
        options += [(score, name, c) for score, c in zip(scores, by_kind[kind], strict=True) if score >= threshold]
    chosen: dict[str, ExtractedField | None] = dict.fromkeys(names)
    used: set[tuple[int, tuple[float, ...]]] = set()
    for score, name, candidate in sorted(options, key=lambda o: -o[0]):
        spot = (candidate.page, candidate.bbox)
        if chosen[name] is not None or spot in used:
            continue
        used.add(spot)
        chosen[name] = _field(candidate, score)
    if "currency" in chosen and chosen["currency"] is None:
        chosen["currency"] = _currency_from_amounts(context)
    return chosen


def _field(candidate: Candidate, score: float) -> ExtractedField:
    return ExtractedField(
        value=candidate.value,
        confidence=round(min(max(score, 0.0), 1.0), 4),
        page=candidate.page,
        bbox=candidate.bbox,
        text=candidate.text,
    )


def _currency_from_amounts(context: DocumentContext) -> ExtractedField | None:
    """No labelled currency: the code or symbol printed with the amounts, if one dominates."""
    if not context.amount_currencies:
        return None
    code, count = context.amount_currencies.most_common(1)[0]
    share = count / sum(context.amount_currencies.values())
    word = context.currency_words[code]
    return ExtractedField(
        value=code, confidence=round(0.6 + 0.3 * share, 4), page=word.page,
        bbox=(word.x0, word.y0, word.x1, word.y1), text=word.text,
    )  # fmt: skip


def content_fingerprint(kind: str, values: dict[str, str | None], text: str) -> str:
    """SHA-256 of the type and its key fields; of the letters and digits of the text when too few were found."""
    keys = FINGERPRINT_FIELDS.get(kind, ())
    present = {k: values.get(k) for k in keys if values.get(k)}
    if len(present) >= 2:
        basis = json.dumps({"type": kind, **present}, sort_keys=True)
        return "fields:" + hashlib.sha256(basis.encode()).hexdigest()
    compact = "".join(c for c in text.lower() if c.isalnum())
    return "text:" + hashlib.sha256(compact.encode()).hexdigest()


@contextmanager
def _timed(timings: dict[str, float], step: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[step] = round((time.perf_counter() - started) * 1000, 2)
