"""Errors of key material and envelope encryption."""

from aios.errors import AiosError


class KeyMaterialError(AiosError):
    """A key is missing, malformed or of no use for what was asked."""


class UnknownKeyError(KeyMaterialError):
    """A ciphertext or data key names a key this process cannot find (retired, or another keyring's)."""


class DecryptionError(KeyMaterialError):
    """A ciphertext does not authenticate: altered, moved to another row, or not sealed by us."""


class SignatureError(KeyMaterialError):
    """A record's signature is missing or does not verify under its signer's public key."""
