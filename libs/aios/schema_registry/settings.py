"""Where the registry listens and stores, read from `AIOS_REGISTRY_*` environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from aios.schema_registry.compatibility import CompatibilityLevel
from aios.settings import LOCAL_POSTGRES_PORT, LOCAL_REGISTRY_PORT


class RegistrySettings(BaseSettings):
    """The defaults are the local stack's endpoints, so `python -m services.schema_registry` needs no setup."""

    model_config = SettingsConfigDict(env_prefix="AIOS_REGISTRY_", frozen=True, extra="ignore")

    host: str = Field(default="127.0.0.1", description="Address the HTTP API binds.")
    port: int = Field(default=LOCAL_REGISTRY_PORT, description="Port the HTTP API listens on.")
    postgres_dsn: SecretStr = Field(
        default=SecretStr(f"postgresql://aios@127.0.0.1:{LOCAL_POSTGRES_PORT}/aios_registry"),
        description="PostgreSQL holding the `registry` schema (libpq URI); the stack passes its own role's.",
    )
    users_file: Path | None = Field(
        default=None,
        description=(
            "JSON user → salted SHA-256 and role (admin or reader) that HTTP basic auth checks; "
            "unset: no authentication (development only)."
        ),
    )
    default_compatibility: CompatibilityLevel = Field(
        default=CompatibilityLevel.BACKWARD,
        description="Compatibility level used until `PUT /config` sets a global one.",
    )
