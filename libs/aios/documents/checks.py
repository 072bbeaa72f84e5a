"""Consistency checks within one document, each recorded with its result and the numbers behind it.

A check runs only when the document has its inputs: an invoice without a due date has no due-date check.
Duplicates across documents are the service's concern (it knows the tenant's earlier events).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from aios.documents import normalise as norm
from aios.documents.models import CheckResult, LineItem

CENT = Decimal("0.01")


def run_checks(values: dict[str, str | None], line_items: Sequence[LineItem]) -> list[CheckResult]:
    checks: list[CheckResult] = []
    checks += _line_checks(line_items)
    checks += _sum_checks(values, line_items)
    due, issued = values.get("due_date"), values.get("invoice_date")
    if due and issued:
        checks.append(
            CheckResult(name="due_not_before_issue", passed=due >= issued, detail=f"issued {issued}, due {due}")
        )
    if values.get("iban"):
        ok, detail = norm.iban_valid(str(values["iban"]))
        checks.append(CheckResult(name="iban_valid", passed=ok, detail=detail))
    tax_id = values.get("vendor_tax_id")
    if tax_id:
        country = norm.tax_id_country(tax_id)
        checks.append(
            CheckResult(
                name="tax_id_format",
                passed=country is not None,
                detail=f"{country} format" if country else "fits no known country's format",
            )
        )
    if values.get("currency"):
        known = values["currency"] in norm.ISO_4217
        checks.append(CheckResult(name="currency_known", passed=known, detail=f"{values['currency']} (ISO 4217)"))
    return checks


def _line_checks(line_items: Sequence[LineItem]) -> list[CheckResult]:
    checks = []
    for number, item in enumerate(line_items, start=1):
        if item.quantity is None or item.unit_price is None or item.amount is None:
            continue
        expected = (Decimal(item.quantity) * Decimal(item.unit_price)).quantize(CENT)
        actual = Decimal(item.amount)
        checks.append(
            CheckResult(
                name=f"line_{number}_amount",
                passed=abs(expected - actual) <= CENT,
                detail=f"{item.quantity} x {item.unit_price} = {expected}, printed {item.amount}",
            )
        )
    return checks


def _sum_checks(values: dict[str, str | None], line_items: Sequence[LineItem]) -> list[CheckResult]:
    checks = []
    subtotal = values.get("subtotal")
    amounts = [Decimal(item.amount) for item in line_items if item.amount is not None]
    if subtotal and amounts:
        lines_sum = sum(amounts, Decimal(0))
        checks.append(
            CheckResult(
                name="lines_sum_to_subtotal",
                passed=lines_sum == Decimal(subtotal),
                detail=f"{len(amounts)} lines add up to {norm.format_amount(lines_sum)}, subtotal {subtotal}",
            )
        )
    tax, total = values.get("tax_amount"), values.get("total")
    if subtotal and tax and total:
        expected = Decimal(subtotal) + Decimal(tax)
        checks.append(
            CheckResult(
                name="subtotal_plus_tax_is_total",
                passed=expected == Decimal(total),
                detail=f"{subtotal} + {tax} = {norm.format_amount(expected)}, total {total}",
            )
        )
    return checks
