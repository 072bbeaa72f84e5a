import pytest

from aios.tenants.errors import SignatureInvalid
from aios.tenants.signatures import parse_signature, sign, signature_header, signed_digest, verify_signature

BODY = b'{"type":"support.ticket","text":"hi"}'
NOW = 1_800_000_000


def test_a_header_made_with_the_secret_verifies() -> None:
    verify_signature(parse_signature(signature_header("s3cret", NOW, BODY)), BODY, ["s3cret"], NOW, 300)


def test_any_of_several_v1_values_may_match_any_active_secret() -> None:
    header = f"t={NOW},v1={'0' * 64},v1={sign('new', NOW, BODY)}"
    verify_signature(parse_signature(header), BODY, ["old", "new"], NOW + 10, 300)


@pytest.mark.parametrize(
    ("header", "secrets", "now", "why"),
    [
        (signature_header("other", NOW, BODY), ["s3cret"], NOW, "does not match"),
        (signature_header("s3cret", NOW, BODY), ["s3cret"], NOW + 301, "from the server clock"),
        (signature_header("s3cret", NOW, BODY), ["s3cret"], NOW - 301, "from the server clock"),
        (signature_header("s3cret", NOW, BODY + b" "), ["s3cret"], NOW, "does not match"),
    ],
)
def test_wrong_stale_or_tampered_signatures_are_refused(header: str, secrets: list[str], now: int, why: str) -> None:
    with pytest.raises(SignatureInvalid, match=why):
        verify_signature(parse_signature(header), BODY, secrets, now, 300)


@pytest.mark.parametrize("header", [None, "", "v1=abc", f"t={NOW}", "t=soon,v1=abc", f"t={NOW},v1=", f"t={NOW},v1=abc"])
def test_malformed_headers_are_refused(header: str | None) -> None:
    with pytest.raises(SignatureInvalid):
        parse_signature(header)


V1 = sign("s3cret", NOW, BODY)


@pytest.mark.parametrize(
    "spelling",
    [
        f"t={NOW},v1={V1.upper()}",
        f" t={NOW} , v1={V1} ",
        f"v1={V1},t={NOW}",
        f"t={NOW},v0=abc,scheme=hmac,v1={V1}",
        f"t={NOW},v1={'0' * 64},v1={V1}",
        f"t={NOW},v1=not-hex,v1={V1}",
    ],
)
def test_every_spelling_of_a_signature_verifies_as_the_same_signed_request(spelling: str) -> None:
    """Case, spaces, order, unknown fields and extra `v1` values change neither validity nor identity."""
    parsed = parse_signature(spelling)
    verify_signature(parsed, BODY, ["s3cret"], NOW, 300)
    assert signed_digest("src", parsed.timestamp, BODY) == signed_digest("src", NOW, BODY)


FULLWIDTH_DIGITS = "".join(chr(0xFF10 + int(digit)) for digit in str(NOW))
"""Digits Python's int() reads, but not ASCII."""


@pytest.mark.parametrize(
    "timestamp",
    [f"0{NOW}", f"+{NOW}", f"-{NOW}", f" {NOW}", f"{NOW}.0", f"{NOW:_}", FULLWIDTH_DIGITS, "9" * 13],
)
def test_a_timestamp_has_one_spelling_only(timestamp: str) -> None:
    with pytest.raises(SignatureInvalid, match="digits only"):
        parse_signature(f"t={timestamp},v1={V1}")


def test_two_timestamps_are_refused() -> None:
    with pytest.raises(SignatureInvalid, match="not several"):
        parse_signature(f"t={NOW},t={NOW + 1},v1={V1}")


def test_what_was_signed_differs_by_source_timestamp_and_body() -> None:
    digests = {
        signed_digest("src", NOW, BODY),
        signed_digest("other", NOW, BODY),
        signed_digest("src", NOW + 1, BODY),
        signed_digest("src", NOW, BODY + b" "),
    }
    assert len(digests) == 4


def test_the_signed_message_is_timestamp_dot_body() -> None:
    """The documented format, computed independently: HMAC-SHA256 over "<t>.<body>"."""
    import hashlib
    import hmac

    assert sign("k", 5, b"x") == hmac.new(b"k", b"5.x", hashlib.sha256).hexdigest()
