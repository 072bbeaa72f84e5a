"""The demo's document summary: per type touchless share, review reasons, duplicates caught, payouts, timing."""

from __future__ import annotations

from rich.console import Console

from aios.demo.document_summary import DocumentOutcome, paid_twice, summarise, summary_table


def outcomes() -> list[DocumentOutcome]:
    return [
        DocumentOutcome("invoice", None, "AUTO", None, 100.0, 110.0),
        DocumentOutcome("invoice", None, "AUTO", None, 100.0, 130.0),
        DocumentOutcome("invoice", "iban_changed", "REVIEW", "the vendor's IBAN changed", 100.0),
        DocumentOutcome("invoice", "unknown_vendor", "REVIEW", "unknown vendor", 100.0),
        DocumentOutcome("invoice", "duplicate", "REJECT", None, 100.0),
        DocumentOutcome("invoice", "duplicate", "AUTO", None, 100.0),
        DocumentOutcome("claim", None, "AUTO", None, 50.0, 54.0),
        DocumentOutcome("claim", "outside_cover", "REVIEW", "loss not covered", 50.0),
        DocumentOutcome("claim", None, None, None, 50.0),
        DocumentOutcome("claim", None, "APPROVED", "a field read with low confidence", 50.0, 70.0),
    ]


def test_per_type_figures() -> None:
    summaries = summarise(outcomes())
    invoice, claim = summaries["invoice"], summaries["claim"]
    assert (invoice.documents, invoice.touchless, invoice.payouts) == (6, 3, 2)
    assert invoice.touchless_share == 0.5
    assert dict(invoice.review_reasons) == {"the vendor's IBAN changed": 1, "unknown vendor": 1}
    assert (invoice.duplicates_sent, invoice.duplicates_caught) == (2, 1)
    assert invoice.upload_to_payout_s is not None and invoice.upload_to_payout_s[0] == 20.0
    assert (claim.documents, claim.touchless, claim.payouts, claim.duplicates_sent) == (4, 1, 2, 0)
    assert claim.upload_to_payout_s is not None and claim.upload_to_payout_s[0] == 12.0
    assert dict(claim.review_reasons) == {"loss not covered": 1, "a field read with low confidence": 1}


def test_paid_twice_is_the_simulators_count() -> None:
    assert paid_twice({"payouts": 3, "references": 2, "paid_twice": ["INV-1"]}) == ["INV-1"]
    assert paid_twice({"payouts": 0, "references": 0}) == []


def test_table_names_each_type_and_the_simulators_verdict() -> None:
    console = Console(record=True, width=200)
    console.print(summary_table(summarise(outcomes()), {"payouts": 3, "references": 3, "paid_twice": []}))
    text = console.export_text()
    assert "invoice" in text and "claim" in text and "3 (50%)" in text
    assert "1 of 2" in text and "none paid twice" in text
