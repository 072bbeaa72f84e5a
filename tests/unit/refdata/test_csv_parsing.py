"""Reading reference-data CSV files: good rows in their normal form, each bad row rejected with why."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from aios.policy.reference import InsurancePolicy, PurchaseOrder, Vendor
from aios.refdata.errors import RefdataFileInvalid
from aios.refdata.parsing import Rejected, parse_file


def test_vendors_with_lists_normalised() -> None:
    parsed = parse_file(
        "vendors",
        "\ufeffName, Aliases, Tax_ID, IBANs\n"
        "Acme GmbH,ACME;Acme Industrial | Acme Ind.,de 123.456.789,de89 3704 0044 0532 0130 00;GB82WEST12345698765432\n"
        "Solo Ltd,,,\n",
    )
    assert parsed.rejected == []
    acme, solo = parsed.rows
    assert acme == Vendor(
        "Acme GmbH",
        ("ACME", "Acme Industrial", "Acme Ind."),
        "DE123456789",
        ("DE89370400440532013000", "GB82WEST12345698765432"),
    )
    assert isinstance(acme, Vendor) and acme.match_keys[0] == "tax:DE123456789"
    assert solo == Vendor("Solo Ltd", (), None, ())


def test_each_bad_vendor_row_is_rejected_with_its_line_and_reason() -> None:
    parsed = parse_file(
        "vendors",
        "name,ibans\n"
        "Good,DE89370400440532013000\n"
        "Bad checksum,DE89370400440532013001\n"
        "Too short,DE8937040044053201300\n"
        "Not an IBAN,hello\n"
        ",DE89370400440532013000\n"
        "good,\n"  # the same name as line 2 (case and punctuation aside)
        "\n"
        "Extra,DE89370400440532013000,surplus\n",
    )
    assert [row.name for row in parsed.rows if isinstance(row, Vendor)] == ["Good"]
    assert parsed.rejected == [
        Rejected(3, "ibans: IBAN DE89370400440532013001: checksum (mod 97) fails"),
        Rejected(4, "ibans: IBAN DE8937040044053201300: DE IBANs have 22 characters, this one 21"),
        Rejected(5, "ibans: 'hello' is not an IBAN"),
        Rejected(6, "name: missing"),
        Rejected(7, "the same vendor name as line 2"),
        Rejected(9, "3 values for 2 columns"),
    ]


def test_purchase_orders_amounts_and_currencies() -> None:
    parsed = parse_file(
        "purchase-orders",
        "number,vendor,amount,currency,remaining\n"
        "PO-1,Acme,1200.50,eur,200\n"
        "PO-2,Acme,100,USD,\n"
        "PO-3,Acme,1.234,EUR,1\n"
        "PO-4,Acme,100.00,XYZ,1\n"
        "PO-5,Acme,100.00,EUR,150.00\n"
        "PO-6,Acme,-5,EUR,\n"
        "po-1,Acme,1,EUR,1\n",
    )
    assert parsed.rows == [
        PurchaseOrder("PO-1", "Acme", Decimal("1200.50"), "EUR", Decimal("200")),
        PurchaseOrder("PO-2", "Acme", Decimal("100"), "USD", Decimal("100")),
    ]
    assert [(r.line, r.reason) for r in parsed.rejected] == [
        (4, "amount: '1.234' is not an amount such as 1234.50"),
        (5, "currency: 'XYZ' is not an ISO 4217 currency"),
        (6, "remaining: 150.00 is more than the order's amount 100.00"),
        (7, "amount: '-5' is not an amount such as 1234.50"),
        (8, "the same PO number as line 2"),
    ]


def test_policies_dates_and_loss_types() -> None:
    parsed = parse_file(
        "policies",
        "number,holder,active_from,active_to,loss_types,limit,deductible\n"
        "HP-1,Jane Doe,2025-01-01,2025-12-31,Fire;WATER_DAMAGE,50000,500.00\n"
        "HP-2,Jane Doe,2025-01-01,2025-12-31,theft,1000,\n"
        "HP-3,Jane Doe,01/02/2025,2025-12-31,theft,1000,0\n"
        "HP-4,Jane Doe,2025-02-30,2025-12-31,theft,1000,0\n"
        "HP-5,Jane Doe,2025-06-01,2025-05-31,theft,1000,0\n"
        "HP-6,Jane Doe,2025-01-01,2025-12-31,earthquake;fire,1000,0\n"
        "HP-7,Jane Doe,2025-01-01,2025-12-31,,1000,0\n",
    )
    year = (date(2025, 1, 1), date(2025, 12, 31))
    assert parsed.rows == [
        InsurancePolicy("HP-1", "Jane Doe", *year, ("fire", "water_damage"), Decimal(50000), Decimal(500)),
        InsurancePolicy("HP-2", "Jane Doe", *year, ("theft",), Decimal(1000), Decimal(0)),
    ]
    reasons = [r.reason for r in parsed.rejected]
    assert reasons[0] == "active_from: '01/02/2025' is not a date YYYY-MM-DD"
    assert reasons[1] == "active_from: '2025-02-30' is not a calendar date"
    assert reasons[2] == "active_to: 2025-05-31 is before active_from 2025-06-01"
    assert reasons[3].startswith("loss_types: earthquake; use water_damage")
    assert reasons[4].startswith("loss_types: none given")


@pytest.mark.parametrize(
    ("kind", "text", "message"),
    [
        ("vendors", "", "the file is empty"),
        ("purchase-orders", "number,vendor,amount\n", "missing column(s) currency"),
        ("vendors", "name,iban\n", "unknown column(s) iban"),
        ("vendors", "name,name\n", "column(s) given twice: name"),
    ],
)
def test_a_header_that_does_not_fit_refuses_the_whole_file(kind: str, text: str, message: str) -> None:
    with pytest.raises(RefdataFileInvalid, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_file(kind, text)  # type: ignore[arg-type]
