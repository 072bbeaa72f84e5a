"""A value's own label outranks what the learnt weights saw around it."""

from __future__ import annotations

from aios.documents.extraction import extract_document
from tests.support.documents import invoice_pdf


def test_a_due_date_under_the_invoice_date_line_is_read_as_the_due_date() -> None:
    # "Invoice date: …" on one line, "Due date: …" on the next: the due date's line above names the
    # invoice date, and the bundled weights, trained on layouts where labels sit above values, once took it.
    extraction = extract_document(invoice_pdf(), media_type="application/pdf", declared_type="invoice")
    dates = {name: field.value if field else None for name, field in extraction.fields.items() if "date" in name}
    assert dates == {"invoice_date": "2026-11-02", "due_date": "2026-12-02"}
