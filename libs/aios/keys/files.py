"""Local key files: made once with random bytes, readable by their owner only."""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
from pathlib import Path

from pydantic import SecretStr

from aios.keys.errors import KeyMaterialError

KEY_BYTES = 32


def write_private(path: Path, data: bytes, replace: bool = False) -> None:
    """Write `path` 0600 atomically; unless `replace`, a file a concurrent caller made first wins."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    try:
        if replace:
            os.replace(temporary, path)
            return
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


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
