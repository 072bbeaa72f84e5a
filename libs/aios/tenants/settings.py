"""How long rotated credentials keep working, read from `AIOS_TENANTS_*` environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DAY_S = 24 * 60 * 60


class TenantSettings(BaseSettings):
    """Grace periods give clients time to switch to rotated credentials without failed requests."""

    model_config = SettingsConfigDict(env_prefix="AIOS_TENANTS_", frozen=True, extra="ignore")

    key_grace_s: int = Field(
        default=DAY_S,
        ge=0,
        description="Seconds a tenant's previous API key keeps working after `aios keys rotate`.",
    )
    webhook_secret_grace_s: int = Field(
        default=DAY_S,
        ge=0,
        description="Seconds a source's previous signing secrets stay valid after `aios webhooks add` rotates it.",
    )
