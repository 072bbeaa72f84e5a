"""The secret keys services share with nothing but their key store: one function per key."""

from __future__ import annotations

from aios.keys.files import secret_key
from aios.keys.settings import KeySettings


def audit_chain_key(settings: KeySettings | None = None) -> bytes:
    """The HMAC key of the audit chain's links and of its signed checkpoints."""
    settings = settings or KeySettings()
    return secret_key(settings.audit_chain_key, settings.dir / "audit-chain.key", "the audit chain key")
