"""The documents-pipeline benchmark's reference data (what `aios refdata import` reads), from the invoices' truth."""

from __future__ import annotations

from aios.bench.document_pipeline import INVOICE_LAYOUTS, invoices, payables_refdata
from aios.documents.synthetic import HELD_OUT_LAYOUTS
from aios.refdata.parsing import parse_file


def test_every_invoice_has_its_vendor_and_an_open_purchase_order_of_its_total() -> None:
    made = invoices(3, scanned=False, seed=1)
    files = payables_refdata(made)
    vendors, orders = parse_file("vendors", files["vendors"]), parse_file("purchase-orders", files["purchase-orders"])
    assert len(vendors.rows) == len(orders.rows) == 3
    for invoice, vendor, order in zip(made, vendors.rows, orders.rows, strict=True):
        f = {name: str(value) for name, value in invoice.fields.items()}
        assert f["vendor_name"] in str(vendor) and f["iban"] in str(vendor)
        assert f["po_number"] in str(order) and f["total"] in str(order)


def test_a_vendor_given_another_iban_on_file_has_only_that_one() -> None:
    (invoice,) = invoices(1, scanned=False, seed=2)
    other = "DE89370400440532013000"
    files = payables_refdata([invoice], {invoice.fields["vendor_name"] or "": other})
    (vendor,) = parse_file("vendors", files["vendors"]).rows
    assert other in str(vendor) and str(invoice.fields["iban"]) not in str(vendor)


def test_the_invoices_are_of_tuning_layouts_only() -> None:
    assert INVOICE_LAYOUTS and not set(INVOICE_LAYOUTS) & HELD_OUT_LAYOUTS
    assert {invoice.kind for invoice in invoices(len(INVOICE_LAYOUTS), scanned=False, seed=3)} == {"invoice"}
