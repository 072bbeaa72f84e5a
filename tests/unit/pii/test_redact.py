"""PII redaction: what is replaced, what is deliberately left alone, and what is reported."""

from __future__ import annotations

import pytest

from aios.pii import Redaction, iban_valid, luhn_valid, redact


@pytest.mark.parametrize(
    "number",
    ["4111 1111 1111 1111", "4111-1111-1111-1111", "4111111111111111", "5500 0000 0000 0004", "3782 822463 10005"],
)
def test_card_numbers_that_pass_luhn_are_redacted(number: str) -> None:
    result = redact(f"my card {number} was charged twice")
    assert result == Redaction("my card [CARD] was charged twice", ("card",))


@pytest.mark.parametrize("number", ["4111 1111 1111 1112", "1234567890123456", "5500 0000 0000 0005"])
def test_card_like_numbers_failing_luhn_stay(number: str) -> None:
    text = f"reference {number} on the statement"
    assert redact(text) == Redaction(text, ())


def test_luhn_checks_length_and_digits() -> None:
    assert luhn_valid("4111111111111111")
    assert not luhn_valid("411111111111")  # 12 digits: too short for a card
    assert not luhn_valid("4111x11111111111")


@pytest.mark.parametrize(
    "iban",
    [
        "GB82 WEST 1234 5698 7654 32",
        "GB82WEST12345698765432",
        "DE89 3704 0044 0532 0130 00",
        "FR1420041010050500013M02606",
    ],
)
def test_ibans_with_valid_check_digits_are_redacted(iban: str) -> None:
    result = redact(f"please send it to {iban} today")
    assert result == Redaction("please send it to [IBAN] today", ("iban",))


def test_an_iban_followed_by_a_capitalised_word_keeps_the_word() -> None:
    assert redact("to GB82 WEST 1234 5698 7654 32 THANKS").text == "to [IBAN] THANKS"
    assert redact("to GB82 WEST 1234 5698 7654 3200 THANKS").found == ()


@pytest.mark.parametrize("iban", ["GB83 WEST 1234 5698 7654 32", "GB82WEST12345698765433"])
def test_ibans_with_wrong_check_digits_stay(iban: str) -> None:
    assert "iban" not in redact(f"account {iban}").found
    assert not iban_valid(iban)


@pytest.mark.parametrize(
    "phone", ["+44 20 7946 0958", "+14155552671", "(415) 555-2671", "415-555-2671", "020 7946 0958", "415.555.2671"]
)
def test_phone_numbers_are_redacted(phone: str) -> None:
    assert redact(f"call me on {phone}.") == Redaction("call me on [PHONE].", ("phone",))


@pytest.mark.parametrize(
    "text",
    [
        "it happened on 2024-01-15",
        "it happened on 15.01.2024",
        "a transfer of 10.000.000 was blocked",
        "a limit of 1 000 000 applies",
        "I paid $1,250.00 twice",
        "order 12345 is late",
        "my pin is 1234",
    ],
)
def test_dates_amounts_and_short_numbers_are_not_phones(text: str) -> None:
    assert redact(text) == Redaction(text, ())


@pytest.mark.parametrize("email", ["jane.doe+bank@example.co.uk", "J_Smith@mail.example.com", "a@b.io"])
def test_emails_are_redacted(email: str) -> None:
    assert redact(f"write to {email}, please") == Redaction("write to [EMAIL], please", ("email",))


def test_everything_found_is_reported_in_text_order() -> None:
    result = redact(
        "Jane (jane@example.com, +44 20 7946 0958) paid with 4111 1111 1111 1111 "
        "from GB82 WEST 1234 5698 7654 32; jane@example.com again"
    )
    assert result.text == "Jane ([EMAIL], [PHONE]) paid with [CARD] from [IBAN]; [EMAIL] again"
    assert result.found == ("email", "phone", "card", "iban", "email")
    assert result.kinds == ["card", "email", "iban", "phone"]


def test_text_without_personal_data_is_unchanged() -> None:
    text = "How do I raise my credit limit?"
    assert redact(text) == Redaction(text, ())
    assert redact("") == Redaction("", ())
