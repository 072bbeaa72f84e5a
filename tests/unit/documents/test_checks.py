"""Checks within one document: each recorded with its result, only when the document has its inputs."""

from __future__ import annotations

from aios.documents.checks import run_checks
from aios.documents.models import LineItem

GOOD: dict[str, str | None] = {
    "invoice_date": "2024-03-01",
    "due_date": "2024-03-31",
    "subtotal": "30.00",
    "tax_amount": "5.70",
    "total": "35.70",
    "iban": "DE89370400440532013000",
    "vendor_tax_id": "DE123456789",
    "currency": "EUR",
}
ITEMS = [
    LineItem(description="a", quantity="2", unit_price="10.00", amount="20.00"),
    LineItem(description="b", quantity="0.5", unit_price="20.00", amount="10.00"),
]


def results(values: dict[str, str | None], items: list[LineItem] = ITEMS) -> dict[str, bool]:
    return {c.name: c.passed for c in run_checks(values, items)}


def test_a_consistent_invoice_passes_every_check() -> None:
    assert results(GOOD) == {
        "line_1_amount": True,
        "line_2_amount": True,
        "lines_sum_to_subtotal": True,
        "subtotal_plus_tax_is_total": True,
        "due_not_before_issue": True,
        "iban_valid": True,
        "tax_id_format": True,
        "currency_known": True,
    }


def test_each_inconsistency_fails_its_own_check() -> None:
    wrong_line = [ITEMS[0].model_copy(update={"amount": "21.00"}), ITEMS[1]]
    assert results(GOOD, wrong_line)["line_1_amount"] is False
    assert results(GOOD, wrong_line)["lines_sum_to_subtotal"] is False
    assert results({**GOOD, "total": "35.71"})["subtotal_plus_tax_is_total"] is False
    assert results({**GOOD, "due_date": "2024-02-28"})["due_not_before_issue"] is False
    assert results({**GOOD, "iban": "DE89370400440532013001"})["iban_valid"] is False
    assert results({**GOOD, "vendor_tax_id": "DE12"})["tax_id_format"] is False
    assert results({**GOOD, "currency": "XYZ"})["currency_known"] is False


def test_a_check_without_its_inputs_is_not_recorded() -> None:
    assert results({"total": "10.00"}, []) == {}


def test_details_carry_the_numbers() -> None:
    checks = {c.name: c for c in run_checks({**GOOD, "total": "35.71"}, ITEMS)}
    assert checks["subtotal_plus_tax_is_total"].detail == "30.00 + 5.70 = 35.70, total 35.71"
