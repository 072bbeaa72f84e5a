"""The sealed format of envelope encryption: what a data key seals opens only with that key and the same
associated data, and any changed byte is refused."""

from __future__ import annotations

import uuid

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from aios.keys.envelope import decrypt_with, encrypt_with, sealed_key_id
from aios.keys.errors import DecryptionError

KEY = AESGCM.generate_key(bit_length=256)
KEY_ID = uuid.uuid4()
AAD = b"documents:acme:tenants/acme/documents/00"
PLAINTEXT = b"%PDF-1.7 invoice INV-1001 total 1200.00 EUR"


def test_a_sealed_value_names_its_data_key_hides_the_plaintext_and_opens_whole() -> None:
    sealed = encrypt_with(KEY_ID, KEY, PLAINTEXT, AAD)
    assert sealed_key_id(sealed) == KEY_ID
    assert b"%PDF" not in sealed and b"INV-1001" not in sealed
    assert decrypt_with(KEY, sealed, AAD) == PLAINTEXT
    assert encrypt_with(KEY_ID, KEY, PLAINTEXT, AAD) != sealed  # a fresh nonce each time


@pytest.mark.parametrize("position", [0, 17, 30, 40, -1])
def test_a_changed_version_nonce_ciphertext_or_tag_is_refused(position: int) -> None:
    """(A changed data key id names another key, or none: `DataKeys` finds no key to open it with.)"""
    sealed = bytearray(encrypt_with(KEY_ID, KEY, PLAINTEXT, AAD))
    sealed[position] ^= 0x01
    with pytest.raises(DecryptionError):
        decrypt_with(KEY, bytes(sealed), AAD)


def test_other_associated_data_or_another_key_is_refused() -> None:
    sealed = encrypt_with(KEY_ID, KEY, PLAINTEXT, AAD)
    with pytest.raises(DecryptionError, match="does not authenticate"):
        decrypt_with(KEY, sealed, b"documents:other:tenants/other/documents/00")
    with pytest.raises(DecryptionError, match="does not authenticate"):
        decrypt_with(AESGCM.generate_key(bit_length=256), sealed, AAD)


@pytest.mark.parametrize("stored", [b"", b"\x01" + b"\x00" * 40, PLAINTEXT])
def test_bytes_that_were_never_sealed_are_refused_by_shape(stored: bytes) -> None:
    with pytest.raises(DecryptionError, match="not a value sealed"):
        sealed_key_id(stored)
