"""Credentials handed to clients: API keys (stored as digests) and webhook signing secrets."""

from __future__ import annotations

import hashlib
import secrets

API_KEY_PREFIX = "aios_"
WEBHOOK_SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
_RANDOM_BYTES = 32


def new_api_key() -> str:
    """`aios_` and 256 random bits; the prefix lets secret scanners and humans recognise a leaked key."""
    return API_KEY_PREFIX + secrets.token_urlsafe(_RANDOM_BYTES)


def new_webhook_secret() -> str:
    """`whsec_` and 256 random bits, the HMAC key a webhook sender signs its requests with."""
    return WEBHOOK_SECRET_PREFIX + secrets.token_urlsafe(_RANDOM_BYTES)


def hash_api_key(api_key: str) -> str:
    """SHA-256 hex digest under which an API key is stored and looked up.

    A plain, unsalted digest is right here, unlike for passwords: keys carry 256 random bits, so
    neither dictionaries nor brute force can invert the digest, and salt or a slow KDF would only
    cost time on every request and prevent the indexed lookup by digest.
    """
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()
