import pytest

from aios.ingest.errors import SignatureInvalid
from aios.ingest.signatures import parse_signature, sign, signature_header, verify_signature

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


@pytest.mark.parametrize("header", [None, "", "v1=abc", f"t={NOW}", "t=soon,v1=abc", f"t={NOW},v1="])
def test_malformed_headers_are_refused(header: str | None) -> None:
    with pytest.raises(SignatureInvalid):
        parse_signature(header)


def test_the_signed_message_is_timestamp_dot_body() -> None:
    """The documented format, computed independently: HMAC-SHA256 over "<t>.<body>"."""
    import hashlib
    import hmac

    assert sign("k", 5, b"x") == hmac.new(b"k", b"5.x", hashlib.sha256).hexdigest()
