"""What a payout pays: one business reference per invoice or claim, however its document was read."""

from __future__ import annotations

import pytest

from aios.connectors.errors import InvalidActionError
from aios.connectors.payment import business_reference, payout_body

BORN_DIGITAL = {"vendor_tax_id": "DE123456789", "vendor_name": "Acme GmbH", "invoice_number": "INV-2024-0042"}


@pytest.mark.parametrize(
    "scanned",
    [
        {"vendor_tax_id": "DE 123 456 789", "vendor_name": "ACME GMBH", "invoice_number": "INV 2024 0042"},
        {"vendor_tax_id": "de123456789", "vendor_name": "Acme GmbI", "invoice_number": "inv-2024-0042"},
    ],
)
def test_a_scan_and_its_born_digital_original_are_one_invoice(scanned: dict[str, str]) -> None:
    assert business_reference(scanned) == business_reference(BORN_DIGITAL) == "invoice:tax:DE123456789:INV20240042"


def test_the_amount_is_not_part_of_the_reference_and_other_invoices_differ() -> None:
    assert business_reference({**BORN_DIGITAL, "amount": "100.00"}) == business_reference(
        {**BORN_DIGITAL, "amount": "1000.00"}
    )
    assert business_reference({**BORN_DIGITAL, "invoice_number": "INV-2024-0043"}) != business_reference(BORN_DIGITAL)
    other_vendor = {"vendor_tax_id": "", "vendor_name": "Other Ltd", "invoice_number": "INV-2024-0042"}
    assert business_reference(other_vendor) == "invoice:name:otherltd:INV20240042"


def test_a_claim_is_its_claim_number() -> None:
    assert business_reference({"claim_number": "CLM-77/001", "policy_number": "P-1"}) == "claim:CLM77001"
    assert business_reference({"claim_number": "clm 77 001"}) == "claim:CLM77001"


def test_a_payout_without_an_identity_or_its_amount_is_refused_with_a_reason() -> None:
    with pytest.raises(InvalidActionError, match="invoice_number"):
        business_reference({"amount": "10.00"})
    with pytest.raises(InvalidActionError, match="vendor"):
        business_reference({"invoice_number": "INV-1"})
    with pytest.raises(InvalidActionError, match="iban"):
        payout_body({"amount": "10.00", "currency": "EUR"}, "claim:C1")


def test_the_payout_body_keeps_what_the_provider_needs_and_drops_empty_options() -> None:
    params = {"amount": "10.00", "currency": "EUR", "iban": "DE89370400440532013000", "execute_on": "", "x": "y"}
    assert payout_body(params, "claim:C1") == {
        "reference": "claim:C1",
        "amount": "10.00",
        "currency": "EUR",
        "iban": "DE89370400440532013000",
    }
