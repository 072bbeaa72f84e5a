"""The demo's document set: enough invoices and claims, scans a minority, every planted error, no held-out layout."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import TypeVar

import pytest

from aios.demo.documents import PLANTED_ERRORS, DemoDocuments, demo_documents
from aios.documents.synthetic import HELD_OUT_LAYOUTS
from aios.policy.reference import InsurancePolicy, Kind, Vendor
from aios.refdata.parsing import parse_file

T = TypeVar("T")


@pytest.fixture(scope="module")
def documents() -> DemoDocuments:
    return demo_documents()


def test_at_least_100_invoices_and_50_claims_as_files(documents: DemoDocuments) -> None:
    kinds = Counter(d.kind for d in documents.documents)
    assert kinds["invoice"] >= 100 and kinds["claim"] >= 50
    assert all(d.document.data for d in documents.documents)
    assert len({d.name for d in documents.documents}) == len(documents.documents)


def test_never_a_held_out_layout(documents: DemoDocuments) -> None:
    assert not {d.document.layout for d in documents.documents} & HELD_OUT_LAYOUTS


def test_born_digital_and_scanned_with_scans_a_minority(documents: DemoDocuments) -> None:
    scanned = [d for d in documents.documents if d.document.scanned]
    assert 0.1 < len(scanned) / len(documents.documents) < 0.4
    assert {d.kind for d in scanned} == {"invoice", "claim"}
    born = [d for d in documents.documents if not d.document.scanned]
    assert all(d.document.media_type == "application/pdf" for d in born)


def test_every_error_is_planted(documents: DemoDocuments) -> None:
    planted = Counter(d.planted for d in documents.documents if d.planted)
    assert set(planted) == set(PLANTED_ERRORS)
    for document in documents.documents:
        fields = document.document.fields
        if document.kind == "invoice":
            adds_up = Decimal(str(fields["subtotal"])) + Decimal(str(fields["tax_amount"])) == Decimal(
                str(fields["total"])
            )
            assert adds_up == (document.planted != "total_off")


def test_duplicates_resend_an_original_file(documents: DemoDocuments) -> None:
    originals = {d.name: d for d in documents.documents if d.planted != "duplicate"}
    for duplicate in (d for d in documents.documents if d.planted == "duplicate"):
        assert duplicate.document.data == originals[duplicate.name.removesuffix("-again")].document.data


def test_reference_rows_match_the_documents(documents: DemoDocuments) -> None:
    vendors = {row.name: row for row in _rows("vendors", documents.refdata["payables"]["vendors"], Vendor)}
    policies = {row.number: row for row in _rows("policies", documents.refdata["claims"]["policies"], InsurancePolicy)}
    assert parse_file("purchase-orders", documents.refdata["payables"]["purchase-orders"]).rows
    for document in documents.documents:
        fields = document.document.fields
        if document.planted == "unknown_vendor":
            assert fields["vendor_name"] not in vendors
        elif document.planted == "iban_changed" and fields["iban"]:
            assert fields["iban"] not in vendors[str(fields["vendor_name"])].ibans
        elif document.planted == "outside_cover":
            assert fields["loss_type"] not in policies[str(fields["policy_number"])].loss_types
        elif document.kind == "claim":
            assert fields["loss_type"] in policies[str(fields["policy_number"])].loss_types


def _rows(kind: Kind, text: str, row_type: type[T]) -> list[T]:
    rows = parse_file(kind, text).rows
    assert all(isinstance(row, row_type) for row in rows)
    return [row for row in rows if isinstance(row, row_type)]
