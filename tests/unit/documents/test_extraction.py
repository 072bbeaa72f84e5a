"""Each field kind read from documents of layouts held out of training, born-digital and scanned."""

from __future__ import annotations

import functools

import pytest

from aios.documents.extraction import extract_document
from aios.documents.models import CLAIM_FIELDS, INVOICE_FIELDS, DocumentExtraction
from aios.documents.synthetic import HELD_OUT_LAYOUTS, Generated, generate, layout

INVOICE_LAYOUT = min(n for n in HELD_OUT_LAYOUTS if n % 2 == 0)
CLAIM_LAYOUT = min(n for n in HELD_OUT_LAYOUTS if n % 2 == 1)


@functools.cache
def sample(layout: int, seed: int = 5, scanned: bool = False) -> tuple[Generated, DocumentExtraction]:
    document = generate(seed, layout, scanned=scanned)
    return document, extract_document(document.data, media_type=document.media_type, declared_type="auto")


@pytest.mark.parametrize("name", INVOICE_FIELDS)
def test_invoice_fields(name: str) -> None:
    document, result = sample(INVOICE_LAYOUT)
    assert result.document_type == "invoice"
    assert result.field_values()[name] == document.fields[name]


@pytest.mark.parametrize("name", CLAIM_FIELDS)
def test_claim_fields(name: str) -> None:
    document, result = sample(CLAIM_LAYOUT)
    assert result.document_type == "claim"
    assert result.field_values()[name] == document.fields[name]


def test_a_field_carries_confidence_page_and_box_on_the_page() -> None:
    _, result = sample(INVOICE_LAYOUT)
    total = result.fields["total"]
    assert total is not None
    assert 0 < total.confidence <= 1 and total.page >= 1
    x0, y0, x1, y1 = total.bbox
    assert 0 <= x0 < x1 <= 700 and 0 <= y0 < y1 <= 900
    assert total.text  # as printed, before normalisation


def test_line_items_across_page_breaks_and_their_checks() -> None:
    long_invoices = [s for s in (sample(INVOICE_LAYOUT, seed) for seed in range(12)) if s[1].page_count > 1]
    assert long_invoices, "no multi-page invoice among the samples"
    document, result = long_invoices[0]
    items = [i.model_dump(include={"description", "quantity", "unit_price", "amount"}) for i in result.line_items]
    assert items == document.line_items
    checks = {c.name: c.passed for c in result.checks}
    assert checks["lines_sum_to_subtotal"] and checks["subtotal_plus_tax_is_total"]
    assert all(passed for name, passed in checks.items() if name.startswith("line_"))


def test_a_missing_field_is_null() -> None:
    sparse = next(n for n in sorted(HELD_OUT_LAYOUTS) if n % 2 == 0 and len(layout(n).optional) < 3)
    document, result = sample(sparse)
    missing = [name for name, value in document.fields.items() if value is None]
    assert missing
    assert all(result.fields[name] is None for name in missing)


def test_a_scan_reads_like_its_original_and_has_the_same_fingerprint() -> None:
    original, born_digital = sample(INVOICE_LAYOUT, 3)
    scanned, from_scan = sample(INVOICE_LAYOUT, 3, scanned=True)
    assert scanned.data != original.data
    assert from_scan.ocr_engine == "tesseract" and from_scan.ocr_pages
    assert born_digital.ocr_engine is None
    wrong = {k: v for k, v in from_scan.field_values().items() if v != original.fields[k]}
    assert len(wrong) <= 1, wrong
    assert from_scan.content_fingerprint == born_digital.content_fingerprint
    assert from_scan.timings_ms["ocr"] > 0


def test_declared_type_is_taken_as_given() -> None:
    document, _ = sample(INVOICE_LAYOUT)
    result = extract_document(document.data, media_type="application/pdf", declared_type="claim")
    assert result.document_type == "claim" and result.type_confidence == 1.0
    assert set(result.fields) == set(CLAIM_FIELDS)


def test_a_document_that_is_neither_is_other(tmp_path: object) -> None:
    from io import BytesIO

    from reportlab.pdfgen.canvas import Canvas

    buffer = BytesIO()
    canvas = Canvas(buffer)
    canvas.drawString(72, 720, "Minutes of the garden club meeting, held on the lawn behind the library.")
    canvas.save()
    result = extract_document(buffer.getvalue(), media_type="application/pdf", declared_type="auto")
    assert result.document_type == "other" and result.fields == {}
