"""Webhook signatures: `AIOS-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`.

Several `v1` values may be sent while a source rotates its secret; one matching any active
secret is enough. Comparisons are constant-time. The timestamp bounds replays to the
tolerance window; the replay store closes the window itself.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from aios.ingest.errors import SignatureInvalid

SIGNATURE_HEADER = "AIOS-Signature"


@dataclass(frozen=True)
class ParsedSignature:
    timestamp: int
    signatures: tuple[str, ...]


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The hex `v1` signature of a body; what senders compute."""
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def parse_signature(header: str | None) -> ParsedSignature:
    if not header:
        raise SignatureInvalid(f"missing {SIGNATURE_HEADER} header")
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                raise SignatureInvalid(f"{SIGNATURE_HEADER}: t must be unix seconds") from None
        elif key == "v1" and value:
            signatures.append(value.lower())
    if timestamp is None or not signatures:
        raise SignatureInvalid(f"{SIGNATURE_HEADER} must carry t=<unix seconds> and at least one v1=<hex>")
    return ParsedSignature(timestamp, tuple(signatures))


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
