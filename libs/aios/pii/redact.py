"""Finding and replacing personal data in free text.

Card numbers and IBANs carry check digits, so a candidate is redacted only when its checksum
holds: an order number that merely looks long stays readable. Phone numbers carry no checksum;
a candidate needs 7 to 15 digits (E.164 allows 15) and is dropped when it reads as a date or as
a thousands-grouped amount. Where detectors overlap, the more specific one wins
(email, then IBAN, then card, then phone).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

EMAIL, IBAN, CARD, PHONE = "email", "iban", "card", "phone"
KINDS = (EMAIL, IBAN, CARD, PHONE)
"""Every kind `redact` reports, in the order overlapping findings are resolved."""

_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])")
# Compact (GB82WEST12345698765432) or printed in groups of four (GB82 WEST 1234 5698 7654 32).
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,4})?)\b")
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
_PHONE = re.compile(
    r"(?<![\w+])(?:\+\d{7,15}|(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]\d{2,4}){1,4})(?!\w)"
)
_DATE = re.compile(r"^(?:\d{4}[.-]\d{1,2}[.-]\d{1,2}|\d{1,2}[.-]\d{1,2}[.-]\d{2,4})$")
_THOUSANDS = re.compile(r"^\d{1,3}(?:([ .])\d{3})(?:\1\d{3})*$")


@dataclass(frozen=True)
class Redaction:
    """Text with personal data replaced by `[KIND]` placeholders, and what was replaced."""

    text: str
    found: tuple[str, ...]
    """The kind of every replaced span, in text order (a kind appears once per occurrence)."""

    @property
    def kinds(self) -> list[str]:
        """The distinct kinds found, sorted: what a record of the redaction needs."""
        return sorted(set(self.found))


def redact(text: str) -> Redaction:
    """Replace every email, phone number, valid card number and valid IBAN in `text`."""
    spans: list[tuple[int, int, str]] = []
    for kind, start, end in _candidates(text):
        if all(end <= s or start >= e for s, e, _ in spans):
            spans.append((start, end, kind))
    spans.sort()
    parts, cursor = [], 0
    for start, end, kind in spans:
        parts += [text[cursor:start], f"[{kind.upper()}]"]
        cursor = end
    parts.append(text[cursor:])
    return Redaction("".join(parts), tuple(kind for _, _, kind in spans))


def _candidates(text: str) -> Iterator[tuple[str, int, int]]:
    """Validated spans, detector by detector in priority order."""
    for match in _EMAIL.finditer(text):
        yield EMAIL, match.start(), match.end()
    for match in _IBAN.finditer(text):
        end = _valid_iban_end(text, match.start(), match.end())
        if end is not None:
            yield IBAN, match.start(), end
    for match in _CARD.finditer(text):
        if luhn_valid(_digits(match[0])):
            yield CARD, match.start(), match.end()
    for match in _PHONE.finditer(text):
        if _phone_like(match[0]):
            yield PHONE, match.start(), match.end()


def _valid_iban_end(text: str, start: int, end: int) -> int | None:
    """Where the valid IBAN starting at `start` ends; a grouped match may have taken a trailing word."""
    while end - start >= 15:
        if iban_valid(text[start:end]):
            return end
        space = text.rfind(" ", start, end)
        if space < 0:
            return None
        end = space
    return None


def iban_valid(candidate: str) -> bool:
    """ISO 13616 check: 15 to 34 characters whose rearranged numeric form is 1 modulo 97."""
    compact = candidate.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34 or not compact.isalnum() or not compact[:2].isalpha():
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum of a 13- to 19-digit card number."""
    if not digits.isdigit() or not 13 <= len(digits) <= 19:
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _phone_like(candidate: str) -> bool:
    count = len(_digits(candidate))
    return 7 <= count <= 15 and not _DATE.match(candidate) and not _THOUSANDS.match(candidate)


def _digits(text: str) -> str:
    return "".join(char for char in text if char.isdigit())
