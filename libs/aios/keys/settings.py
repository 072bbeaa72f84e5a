"""Where keys come from, read from `AIOS_KEYS_*` environment variables.

Locally every key is a file in `dir` (made on first use, 0600); production points the
key-encryption keys at a KMS and mounts or injects the rest as secrets, never into the database.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from aios.stack.settings import StackSettings


class KeySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AIOS_KEYS_", extra="ignore", frozen=True)

    dir: Path = Field(
        default_factory=lambda: StackSettings().state_dir / "keys",
        description="Folder of the local key files: the keyring, the audit MAC key, signing keys.",
    )
    kek: SecretStr | None = Field(
        default=None,
        description="A key-encryption key (32 bytes, base64) that replaces the keyring file; rotating it is the"
        " operator's job (set the new one in kek, the old one in previous_keks, then `aios secrets rotate-kek`).",
    )
    previous_keks: SecretStr | None = Field(
        default=None,
        description="Earlier key-encryption keys (base64, comma separated), still read, never used to wrap.",
    )
    access_key: SecretStr | None = Field(
        default=None, description="Key that signs CLI credentials (base64); unset: the file access.key in dir."
    )
    audit_chain_key: SecretStr | None = Field(
        default=None, description="The audit chain's HMAC key (base64); unset: the file audit-chain.key in dir."
    )
