"""Webhook signatures: `AIOS-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`.

Several `v1` values may be sent while a source rotates its secret; one matching any active
secret is enough. Comparisons are constant-time. The timestamp bounds replays to the
tolerance window; the replay store closes the window itself, keyed on `signed_digest` (what was
signed), so no re-spelling of the header (hex case, spaces, field order, extra fields or `v1`
values) makes a replay look new. `t` is strict: ASCII digits without sign or leading zeros, so
one timestamp has one spelling. Fields other than `t` and `v1` are ignored.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass

from aios.tenants.errors import SignatureInvalid

SIGNATURE_HEADER = "AIOS-Signature"
_TIMESTAMP = re.compile(r"0|[1-9][0-9]{0,11}")
"""Unix seconds as the one decimal spelling `str(int)` gives (12 digits reach far past year 9999)."""
_V1 = re.compile(r"[0-9a-fA-F]{64}")
"""A hex SHA-256 HMAC; any other `v1` value cannot match and is ignored like an unknown field."""


@dataclass(frozen=True)
class ParsedSignature:
    timestamp: int
    signatures: tuple[str, ...]


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The hex `v1` signature of a body; what senders compute."""
    return hmac.new(secret.encode(), signed_message(timestamp, body), hashlib.sha256).hexdigest()


def signed_message(timestamp: int, body: bytes) -> bytes:
    return f"{timestamp}.".encode() + body


def signed_digest(source: str, timestamp: int, body: bytes) -> str:
    """What a verified request signed, for its source: equal for every spelling of the same request."""
    return hashlib.sha256(source.encode() + b"\0" + signed_message(timestamp, body)).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def parse_signature(header: str | None) -> ParsedSignature:
    if not header:
        raise SignatureInvalid(f"missing {SIGNATURE_HEADER} header")
    timestamps: list[str] = []
    signatures: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            timestamps.append(value)
        elif key == "v1" and _V1.fullmatch(value):
            signatures.append(value.lower())
    if len(timestamps) > 1:
        raise SignatureInvalid(f"{SIGNATURE_HEADER} must carry one t=<unix seconds>, not several")
    if not timestamps or not signatures:
        raise SignatureInvalid(f"{SIGNATURE_HEADER} must carry t=<unix seconds> and at least one v1=<64 hex digits>")
    if not _TIMESTAMP.fullmatch(timestamps[0]):
        raise SignatureInvalid(
            f"{SIGNATURE_HEADER}: t must be unix seconds, digits only, without sign or leading zeros"
        )
    return ParsedSignature(int(timestamps[0]), tuple(signatures))


def verify_signature(
    parsed: ParsedSignature, body: bytes, secrets: Sequence[str], now: float, tolerance_s: int
) -> None:
    """Raise SignatureInvalid unless the timestamp is fresh and a `v1` matches an active secret."""
    if abs(now - parsed.timestamp) > tolerance_s:
        raise SignatureInvalid(f"signature timestamp is more than {tolerance_s}s from the server clock")
    expected = [sign(secret, parsed.timestamp, body) for secret in secrets]
    # Compare every pair so the time taken does not tell which secret or position matched.
    matched = False
    for candidate in parsed.signatures:
        for wanted in expected:
            matched |= hmac.compare_digest(candidate, wanted)
    if not matched:
        raise SignatureInvalid("signature does not match the source's secret")
