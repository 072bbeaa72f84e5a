"""PII redaction: emails, phone numbers, card numbers (Luhn-checked) and IBANs (mod-97-checked).

`redact(text)` returns the text with each finding replaced by a placeholder such as `[CARD]`, and
the kind of every finding in text order, so callers can record what was removed without keeping it.
"""

from aios.pii.redact import KINDS, Redaction, iban_valid, luhn_valid, redact

__all__ = ["KINDS", "Redaction", "iban_valid", "luhn_valid", "redact"]
