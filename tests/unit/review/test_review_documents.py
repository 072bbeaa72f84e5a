"""A document beside its review: the view of its extraction, the outlines, the page pictures and their cache,
and the reviewer's corrections read from the verdict form."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
from PIL import Image

from aios.documents.synthetic import generate
from aios.review.accounts import Reviewer, Session
from aios.review.documents import DocumentView, read_corrections
from aios.review.errors import InvalidVerdict
from aios.review.pages import PageCache, PageNotFound, render
from aios.review.routes.documents import ShownDocument
from aios.review.store import Item
from aios.review.web import TEMPLATES

SHA = "a" * 64


def extraction(**fields: Any) -> dict[str, Any]:
    """As the extract service keeps it (`DocumentExtracted` as JSON)."""
    found = {
        "invoice_number": {"normalized": "INV-7", "confidence": 0.97, "page": 1, "bbox": [100.0, 50.0, 160.0, 62.0]},
        "total": {"normalized": "110.00", "confidence": 0.62, "page": 2, "bbox": [300.0, 700.0, 360.0, 712.0]},
        "iban": {"normalized": None, "confidence": 0.0, "page": None, "bbox": None},
        **fields,
    }
    return {
        "document": {"tenant_id": "acme", "sha256": SHA, "media_type": "application/pdf", "pages": 2},
        "document_type": "invoice",
        "fields": found,
        "line_items": [{"description": "Widget", "quantity": "2", "unit_price": "50.00", "amount": "100.00"}],
        "checks": [
            {"name": "totals_add_up", "passed": False, "detail": "100.00 + 0.00 != 110.00"},
            {"name": "iban_checksum", "passed": None, "detail": "no IBAN"},
            {"name": "known_currency", "passed": True, "detail": None},
        ],
        "extractor_version": "document-extractor:3",
    }


def view() -> DocumentView:
    shown = DocumentView.from_extraction(extraction())
    assert shown is not None
    return shown


def form(**values: str) -> dict[str, str]:
    return {key.replace("__", "."): value for key, value in values.items()}


def test_the_view_lists_every_field_of_the_type_and_only_the_failed_checks() -> None:
    shown = view()
    assert [f.name for f in shown.fields][:3] == ["invoice_number", "invoice_date", "due_date"]
    assert {f.name: f.value for f in shown.fields}["total"] == "110.00"
    assert [c["name"] for c in shown.failed_checks] == ["totals_add_up"]
    assert DocumentView.from_extraction({**extraction(), "document_type": "other"}) is None


def test_outlines_are_the_boxes_of_the_fields_found_on_that_page_in_percent() -> None:
    [box] = view().outlines(1, (600.0, 800.0))
    assert (box.name, box.left, box.top, box.width, box.height) == ("invoice_number", 100 / 6, 6.25, 10.0, 1.5)
    assert [b.name for b in view().outlines(2, (600.0, 800.0))] == ["total"]


def test_a_corrected_field_and_an_added_line_item_are_normalised_and_named() -> None:
    corrections = read_corrections(
        view(),
        form(
            field__invoice_number="INV-7",
            field__total="1.234,50",
            field__currency="€",
            item__0__description="Widget",
            item__0__quantity="2",
            item__0__unit_price="50.00",
            item__0__amount="100.00",
            item__1__description="  Shipping   flat ",
            item__1__quantity="1",
            item__1__unit_price="10",
            item__1__amount="10",
            item__2__description="",
        ),
        500,
    )
    assert corrections.fields["total"] == "1234.50"
    assert corrections.fields["currency"] == "EUR"
    assert corrections.line_items[1] == {
        "description": "Shipping flat", "quantity": "1", "unit_price": "10.00", "amount": "10.00"
    }  # fmt: skip
    assert len(corrections.line_items) == 2
    assert corrections.corrected == ["currency", "total", "line_items"]


def test_values_left_as_extracted_are_no_correction() -> None:
    shown = view()
    sent = {f"field.{f.name}": f.value or "" for f in shown.fields}
    sent |= {f"item.0.{column}": value or "" for column, value in shown.line_items[0].items()}
    corrections = read_corrections(shown, sent, 500)
    assert corrections.corrected == []
    assert corrections.fields["invoice_number"] == "INV-7" and corrections.fields["iban"] is None


@pytest.mark.parametrize(
    ("sent", "problem"),
    [
        ({"field.total": "lots"}, "amount"),
        ({"field.invoice_date": "03/04/2026"}, "YYYY-MM-DD"),
        ({"field.iban": "not an iban"}, "IBAN"),
        ({"item.0.quantity": "two"}, "number"),
        ({"field.vendor_name": "x" * 501}, "longer than 500"),
        ({"field.vendor_name": "a\x00b"}, "NUL"),
    ],
)
def test_a_value_not_of_its_fields_form_is_refused_with_the_reason(sent: dict[str, str], problem: str) -> None:
    with pytest.raises(InvalidVerdict, match=problem):
        read_corrections(view(), sent, 500)


def test_a_pdf_page_renders_at_the_scale_with_every_page_size_in_points() -> None:
    pdf = generate(3, 0).data
    rendered = render(pdf, "application/pdf", 1, 1.5)
    document = pdfium.PdfDocument(pdf)
    expected = [(p.get_width(), p.get_height()) for p in document]
    document.close()
    assert rendered.sizes == expected
    picture = Image.open(io.BytesIO(rendered.png))
    assert picture.size == (round(expected[0][0] * 1.5), round(expected[0][1] * 1.5))
    with pytest.raises(PageNotFound):
        render(pdf, "application/pdf", len(expected) + 1, 1.5)


def test_a_scan_renders_in_the_points_the_extractor_measured_it_in() -> None:
    scan = io.BytesIO()
    Image.new("L", (400, 600), 255).save(scan, format="PNG", dpi=(100, 100))
    rendered = render(scan.getvalue(), "image/png", 1, 1.0)
    [(width, height)] = rendered.sizes
    assert (width, height) == (pytest.approx(288.0, abs=0.01), pytest.approx(432.0, abs=0.01))
    assert Image.open(io.BytesIO(rendered.png)).size == (288, 432)


def test_the_cache_renders_each_page_once_and_keeps_tenants_apart(tmp_path: Path) -> None:
    pdf = generate(3, 0).data
    loads: list[str] = []

    def load() -> bytes:
        loads.append("x")
        return pdf

    cache = PageCache(tmp_path, 1.0)
    first = cache.page("acme", SHA, "application/pdf", 1, load)
    assert cache.page("acme", SHA, "application/pdf", 1, load) == first
    assert cache.sizes("acme", SHA, "application/pdf", load)
    assert len(loads) == 1
    cache.page("globex", SHA, "application/pdf", 1, load)
    assert len(loads) == 2
    with pytest.raises(ValueError, match="tenant id"):
        cache.page("../acme", SHA, "application/pdf", 1, load)


def item_page(claimed: bool, document: ShownDocument) -> str:
    """The item page as the server renders it for alice."""
    now = datetime.now(UTC)
    alice = Reviewer("r-1", "alice", "acme", "Acme")
    item = Item(
        review_id="rv-1", tenant_id="acme", event_id="e-1", status="pending", priority=2,
        sla_deadline=now + timedelta(hours=4), reason="the document needs a person", rule="document-needs-review",
        policy_version="v1", label="invoice", confidence=0.99,
        request={
            "type": "document.invoice", "text": "Invoice", "attributes": {"document_sha256": SHA},
            "classification": {"model_name": "intents", "model_version": 1, "model_alias": "production"},
            "passages": [], "draft": None, "proposed_actions": [],
        },
        requested_at=now, claimed_by="alice" if claimed else None,
        claim_expires_at=now + timedelta(minutes=10) if claimed else None,
        verdict=None, completed_by=None, completed_at=None,
    )  # fmt: skip
    return TEMPLATES.get_template("item.html").render(
        now=now, session=Session(alice, "tok"), item=item, labels=[], claim_minutes=10, document=document,
        empty_rows=2,
    )  # fmt: skip


def test_the_item_page_outlines_the_fields_and_offers_every_value_for_correction() -> None:
    hostile = extraction(vendor_name={"normalized": '<img src=x onerror="alert(1)">', "confidence": 0.9,
                                      "page": 1, "bbox": [10.0, 10.0, 50.0, 20.0]})  # fmt: skip
    shown = DocumentView.from_extraction(hostile)
    assert shown is not None
    html = item_page(True, ShownDocument(shown, [(600.0, 800.0), (600.0, 800.0)], None))
    assert html.count('src="/items/rv-1/pages/') == 2
    assert html.count('id="outline-') == 3  # invoice_number and vendor_name on page 1, total on page 2
    assert 'class="outline low" id="outline-total"' in html  # read with confidence 0.62
    assert 'data-field="total"' in html and "left:50.000%;top:87.500%" in html
    assert 'name="field.total" value="110.00"' in html and 'name="field.iban" value=""' in html
    assert html.count('form="document-verdict" name="item.') == 4 * (1 + 2)  # one item, two empty rows
    assert 'class="failed-check"' in html and "totals_add_up" in html
    assert "<img src=x" not in html and "&lt;img src=x" in html
    assert "<script" not in html


def test_an_unclaimed_document_shows_its_values_without_inputs() -> None:
    html = item_page(False, ShownDocument(view(), [], "the pages cannot be shown: store down"))
    assert 'id="pages-problem"' in html and 'name="field.' not in html and "110.00" in html
