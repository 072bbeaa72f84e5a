"""Key-encryption keys (KEKs): they wrap the data keys that encrypt secrets, and never leave this process's
memory except in their keyring file (locally) or the KMS (production).

`KeyEncryptionKeys` is what envelope encryption needs: wrap a data key under the current KEK, unwrap one
under the KEK it names. `FileKeyRing` keeps several KEKs, one current; rotation adds a current one and
keeps the old to unwrap until every data key is re-wrapped. A process re-reads the file when it changes,
so services pick up a rotation without a restart. `EnvKeyRing` takes them from settings instead.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from aios.keys.errors import DecryptionError, KeyMaterialError, UnknownKeyError
from aios.keys.files import KEY_BYTES, decode_key
from aios.keys.settings import KeySettings
from aios.private_files import write_private

_WRAP_AAD = b"aios data key"
_NONCE_BYTES = 12


class KeyEncryptionKeys(Protocol):
    """A KMS: AWS KMS's Encrypt/Decrypt, Vault transit or Google Cloud KMS implement it in production."""

    def current_id(self) -> str: ...

    def wrap(self, data_key: bytes) -> tuple[str, bytes]:
        """The id of the KEK used and the wrapped data key."""
        ...

    def unwrap(self, kek_id: str, wrapped: bytes) -> bytes: ...


def _kek_id(key: bytes) -> str:
    """Names a KEK without revealing it: the first bytes of a digest under a fixed label."""
    return hashlib.sha256(b"aios kek id\0" + key).hexdigest()[:16]


def _wrap(key: bytes, data_key: bytes) -> bytes:
    nonce = secrets.token_bytes(_NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, data_key, _WRAP_AAD)


def _unwrap(key: bytes, wrapped: bytes, kek_id: str) -> bytes:
    try:
        return AESGCM(key).decrypt(wrapped[:_NONCE_BYTES], wrapped[_NONCE_BYTES:], _WRAP_AAD)
    except Exception as exc:  # cryptography's InvalidTag, or a truncated value
        raise DecryptionError(f"a data key wrapped under KEK {kek_id} does not authenticate") from exc


@dataclass
class _Keys:
    current: str
    keys: dict[str, bytes]


class EnvKeyRing:
    """KEKs from settings: `kek` wraps, `previous_keks` still unwrap."""

    def __init__(self, current: bytes, previous: list[bytes]) -> None:
        self._current = _kek_id(current)
        self._keys = {_kek_id(key): key for key in (*previous, current)}

    def current_id(self) -> str:
        return self._current

    def ids(self) -> list[str]:
        return list(self._keys)

    def wrap(self, data_key: bytes) -> tuple[str, bytes]:
        return self._current, _wrap(self._keys[self._current], data_key)

    def unwrap(self, kek_id: str, wrapped: bytes) -> bytes:
        if kek_id not in self._keys:
            raise UnknownKeyError(f"KEK {kek_id} is neither AIOS_KEYS_KEK nor one of AIOS_KEYS_PREVIOUS_KEKS")
        return _unwrap(self._keys[kek_id], wrapped, kek_id)


class FileKeyRing:
    """KEKs in a JSON file (`{"current": id, "keys": {id: base64}}`), made with one key on first use."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._loaded: tuple[float, _Keys] | None = None

    def _keys(self) -> _Keys:
        if not self.path.exists():
            first = secrets.token_bytes(KEY_BYTES)
            self._write(_Keys(_kek_id(first), {_kek_id(first): first}), replace=False)
        mtime = self.path.stat().st_mtime_ns
        if self._loaded is None or self._loaded[0] != mtime:
            try:
                raw = json.loads(self.path.read_text())
                keys = {
                    kek_id: decode_key(text, f"KEK {kek_id} in {self.path}") for kek_id, text in raw["keys"].items()
                }
                self._loaded = (mtime, _Keys(raw["current"], keys))
            except (ValueError, KeyError) as exc:
                raise KeyMaterialError(f"the keyring {self.path} is malformed: {exc}") from exc
        return self._loaded[1]

    def _write(self, keys: _Keys, replace: bool = True) -> None:
        text = json.dumps(
            {"current": keys.current, "keys": {i: base64.b64encode(k).decode() for i, k in keys.keys.items()}}, indent=1
        )
        write_private(self.path, text.encode(), replace=replace)

    def current_id(self) -> str:
        return self._keys().current

    def ids(self) -> list[str]:
        return list(self._keys().keys)

    def wrap(self, data_key: bytes) -> tuple[str, bytes]:
        keys = self._keys()
        return keys.current, _wrap(keys.keys[keys.current], data_key)

    def unwrap(self, kek_id: str, wrapped: bytes) -> bytes:
        keys = self._keys()
        if kek_id not in keys.keys:
            raise UnknownKeyError(f"KEK {kek_id} is not in the keyring {self.path}")
        return _unwrap(keys.keys[kek_id], wrapped, kek_id)

    def add_current(self) -> str:
        """A new KEK that wraps from now on; the others stay to unwrap. Its id."""
        keys = self._keys()
        new = secrets.token_bytes(KEY_BYTES)
        self._write(_Keys(_kek_id(new), {**keys.keys, _kek_id(new): new}))
        return _kek_id(new)

    def drop(self, kek_ids: set[str]) -> None:
        """Forget KEKs no data key is wrapped under any more (never the current one)."""
        keys = self._keys()
        kept = {i: k for i, k in keys.keys.items() if i not in kek_ids or i == keys.current}
        self._write(_Keys(keys.current, kept))


def local_keyring(settings: KeySettings | None = None) -> EnvKeyRing | FileKeyRing:
    """The KEKs of this machine: from settings when `kek` is set, else the keyring file."""
    settings = settings or KeySettings()
    if settings.kek is not None:
        previous = settings.previous_keks.get_secret_value().split(",") if settings.previous_keks else []
        return EnvKeyRing(
            decode_key(settings.kek.get_secret_value(), "AIOS_KEYS_KEK"),
            [decode_key(text, "AIOS_KEYS_PREVIOUS_KEKS") for text in previous if text.strip()],
        )
    return FileKeyRing(settings.dir / "keyring.json")
