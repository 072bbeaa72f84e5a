"""Local key files: made once with random bytes, readable by their owner only."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

from pydantic import SecretStr

from aios.keys.errors import KeyMaterialError
from aios.private_files import write_private

KEY_BYTES = 32


def decode_key(text: str, what: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except ValueError as exc:
        raise KeyMaterialError(f"{what} is not base64") from exc
    if len(key) != KEY_BYTES:
        raise KeyMaterialError(f"{what} must be {KEY_BYTES} bytes, not {len(key)}")
    return key


def secret_key(configured: SecretStr | None, path: Path, what: str) -> bytes:
    """A 256-bit key: the configured one, else the file at `path`, made on first use."""
    if configured is not None:
        return decode_key(configured.get_secret_value(), what)
    if not path.exists():
        write_private(path, base64.b64encode(secrets.token_bytes(KEY_BYTES)) + b"\n")
    return decode_key(path.read_text(), f"{what} ({path})")
