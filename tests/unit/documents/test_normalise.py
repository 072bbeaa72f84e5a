"""Printed values into one form: amounts, dates, currencies, IBANs, tax ids, loss types."""

from __future__ import annotations

import random
from datetime import date

import pytest

from aios.documents import normalise as norm
from aios.documents.synthetic import iban


@pytest.mark.parametrize(
    ("printed", "expected"),
    [
        ("1,234.56", "1234.56"),
        ("1.234,56", "1234.56"),
        ("1 234,56", "1234.56"),
        ("1'234.56", "1234.56"),
        ("€ 12,50", "12.50"),
        ("EUR 1.234,00", "1234.00"),
        ("1.234,00 EUR", "1234.00"),
        ("$99.99", "99.99"),
        ("21.399,72 kr", "21399.72"),
        ("(12.00)", "-12.00"),
        ("1,234", "1234.00"),
        ("12.5", "12.50"),
        ("1,234,567.8", "1234567.80"),
    ],
)
def test_amounts_get_two_decimals_whatever_the_separators(printed: str, expected: str) -> None:
    assert norm.normalise_amount(printed) == expected


@pytest.mark.parametrize("printed", ["INV-0042", "2024-03-15", "abc", "", "12.34.56.78"])
def test_things_that_are_not_amounts_are_none(printed: str) -> None:
    assert norm.normalise_amount(printed) is None


@pytest.mark.parametrize(
    ("printed", "order", "expected"),
    [
        ("2024-03-15", "DMY", date(2024, 3, 15)),
        ("15.03.2024", "DMY", date(2024, 3, 15)),
        ("03/04/2024", "DMY", date(2024, 4, 3)),
        ("03/04/2024", "MDY", date(2024, 3, 4)),
        ("03/15/2024", "DMY", date(2024, 3, 15)),  # only one reading is a date
        ("15 March 2024", "MDY", date(2024, 3, 15)),
        ("March 15, 2024", "DMY", date(2024, 3, 15)),
        ("15-Mar-2024", "DMY", date(2024, 3, 15)),
        ("1. Dezember 2024", "DMY", date(2024, 12, 1)),
        ("4/5/24", "DMY", date(2024, 5, 4)),
    ],
)
def test_dates(printed: str, order: str, expected: date) -> None:
    assert norm.parse_date(printed, order) == expected


def test_impossible_dates_are_none() -> None:
    assert norm.parse_date("31.02.2024") is None
    assert norm.parse_date("Total") is None


def test_a_day_above_twelve_says_the_order() -> None:
    assert norm.numeric_date_order_hint("25/12/2024") == "DMY"
    assert norm.numeric_date_order_hint("12/25/2024") == "MDY"
    assert norm.numeric_date_order_hint("05/06/2024") is None


@pytest.mark.parametrize(
    ("printed", "code"), [("EUR", "EUR"), ("€", "EUR"), ("£", "GBP"), ("chf", "CHF"), ("zł", "PLN")]
)
def test_currencies(printed: str, code: str) -> None:
    assert norm.normalise_currency(printed) == code


def test_unknown_currency_codes_are_none() -> None:
    assert norm.normalise_currency("XYZ") is None
    assert "XYZ" not in norm.ISO_4217


def test_iban_upper_case_without_spaces_and_checked() -> None:
    iban = norm.normalise_iban("de89 3704 0044 0532 0130 00")
    assert iban == "DE89370400440532013000"
    assert norm.iban_valid(iban) == (True, "DE, 22 characters, checksum ok")
    ok, detail = norm.iban_valid("DE89370400440532013001")
    assert not ok and "checksum" in detail
    ok, detail = norm.iban_valid("DE8937040044053201300")
    assert not ok and "22 characters" in detail
    ok, detail = norm.iban_valid("QQ89370400440532013000")
    assert not ok and "unknown" in detail


@pytest.mark.parametrize(
    ("printed", "normal", "country"),
    [
        ("DE 123 456 789", "DE123456789", "DE"),
        ("GB123456789", "GB123456789", "GB"),
        ("NL123456789B01", "NL123456789B01", "NL"),
        ("CHE-123.456.789", "CHE123456789", "CH"),
        ("12-3456789", "12-3456789", "US"),
        ("ATU12345678", "ATU12345678", "AT"),
    ],
)
def test_tax_ids_by_country(printed: str, normal: str, country: str) -> None:
    assert norm.normalise_tax_id(printed) == normal
    assert norm.tax_id_country(normal) == country


def test_tax_id_of_no_known_format_is_none() -> None:
    assert norm.normalise_tax_id("DE12345") is None


@pytest.mark.parametrize(
    ("printed", "loss"),
    [("Water damage", "water_damage"), ("Theft / burglary", "theft"), ("Storm / hail", "storm"), ("Other", "other")],
)
def test_loss_types(printed: str, loss: str) -> None:
    assert norm.normalise_loss_type(printed) == loss


def test_identifiers_need_a_digit_and_no_space() -> None:
    assert norm.normalise_identifier("INV-0042") == "INV-0042"
    assert norm.normalise_identifier("No. 4711") == "4711"  # a "No." glued to the number is not part of it
    assert norm.normalise_identifier("4711 0815") is None
    assert norm.normalise_identifier("#4711") == "4711"
    assert norm.normalise_identifier("Invoice") is None


def test_ocr_confusions_are_repaired_only_into_a_valid_form() -> None:
    assert norm.normalise_tax_id("$E572327873201") == "SE572327873201"
    swedish = iban(random.Random(1), "SE")
    assert norm.normalise_iban("$" + swedish[1:]) == swedish
    assert norm.normalise_iban("DE8O 3704 0044 0532 0130 00") is None  # 'DE80...' would fail the checksum
