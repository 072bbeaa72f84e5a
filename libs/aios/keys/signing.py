"""Ed25519 signatures on records that command effects: decide signs decisions (act verifies), review signs
verdicts (decide verifies). A principal that can write a topic but lacks the signer's private key cannot
forge one; the verifier needs only the public key.

The signed bytes are a domain label (the record type) and the canonical JSON of the record's Avro value
without its `signature` field, timestamps as epoch milliseconds: both sides compute them from the
value alone. A verifier whose schema is newer than the signer's reads the fields added since as null;
those (`ADDED_SINCE_SIGNED`) are left out again when the signature does not verify with them, so verdicts
signed before an upgrade still verify after it (upgrade the verifier first, as BACKWARD compatibility
means). Locally the key pair is `<AIOS_KEYS_DIR>/<signer>.signing.key` and `.pub`, made on first use.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from aios.canonical import canonical_json
from aios.kafka.topics import DECISIONS, REVIEW_COMPLETED
from aios.keys.errors import SignatureError
from aios.keys.settings import KeySettings
from aios.private_files import write_private
from aios.schemas.timestamps import epoch_ms

SIGNATURE_FIELD = "signature"
ADDED_SINCE_SIGNED: dict[str, tuple[str, ...]] = {
    REVIEW_COMPLETED.name: ("corrected_fields", "line_items"),
    DECISIONS.name: ("refdata_revision",),
}
"""Per record type, the optional fields its schema gained after its records were first signed."""


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return epoch_ms(value)
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def signed_bytes(record_type: str, value: Mapping[str, Any]) -> bytes:
    unsigned = {key: item for key, item in value.items() if key != SIGNATURE_FIELD}
    return f"{record_type}\n{canonical_json(_plain(unsigned))}".encode()


def _paths(signer: str, settings: KeySettings) -> tuple[Any, Any]:
    return settings.dir / f"{signer}.signing.key", settings.dir / f"{signer}.signing.pub"


def _ensure_pair(signer: str, settings: KeySettings) -> None:
    private, public = _paths(signer, settings)
    if not private.exists():
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        write_private(private, pem)
    if not public.exists():
        loaded = serialization.load_pem_private_key(private.read_bytes(), password=None)
        assert isinstance(loaded, Ed25519PrivateKey)
        pem = loaded.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        write_private(public, pem)


class RecordSigner:
    def __init__(self, signer: str, record_type: str, settings: KeySettings | None = None) -> None:
        settings = settings or KeySettings()
        _ensure_pair(signer, settings)
        key = serialization.load_pem_private_key(_paths(signer, settings)[0].read_bytes(), password=None)
        assert isinstance(key, Ed25519PrivateKey)
        self._key = key
        self.record_type = record_type

    def signed(self, value: Mapping[str, Any]) -> dict[str, Any]:
        """`value` with its signature field set."""
        signature = self._key.sign(signed_bytes(self.record_type, value))
        return {**value, SIGNATURE_FIELD: base64.b64encode(signature).decode()}


class RecordVerifier:
    def __init__(self, signer: str, record_type: str, settings: KeySettings | None = None) -> None:
        settings = settings or KeySettings()
        public = _paths(signer, settings)[1]
        if not public.exists():
            _ensure_pair(signer, settings)  # locally signer and verifier share the key folder
        key = serialization.load_pem_public_key(public.read_bytes())
        assert isinstance(key, Ed25519PublicKey)
        self._key = key
        self.signer = signer
        self.record_type = record_type

    def verify(self, value: Mapping[str, Any]) -> None:
        """Raises SignatureError unless `value` carries a valid signature of its signer."""
        signature = value.get(SIGNATURE_FIELD)
        if not signature:
            raise SignatureError(f"the {self.record_type} record carries no signature of {self.signer}")
        try:
            decoded = base64.b64decode(signature, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise self._refusal() from exc
        for written in self._as_written(value):
            with contextlib.suppress(InvalidSignature):
                self._key.verify(decoded, signed_bytes(self.record_type, written))
                return
        raise self._refusal()

    def _as_written(self, value: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        """`value`, and when it has null fields its schema gained since signing, `value` without them."""
        added = ADDED_SINCE_SIGNED.get(self.record_type, ())
        older = {key: item for key, item in value.items() if not (key in added and item is None)}
        return [value, older] if len(older) < len(value) else [value]

    def _refusal(self) -> SignatureError:
        return SignatureError(
            f"the {self.record_type} record's signature does not verify under {self.signer}'s key (forged or altered)"
        )
