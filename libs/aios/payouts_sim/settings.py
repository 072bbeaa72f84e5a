"""Payout simulator settings, read from `AIOS_PAYOUTS_SIM_*` environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from aios.runtime.catalog import service
from aios.settings import local_stack_state_dir


class PayoutsSimSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AIOS_PAYOUTS_SIM_", extra="ignore", frozen=True)

    host: str = Field(default="127.0.0.1", description="Address the HTTP server binds.")
    port: int = Field(default=service("payouts-sim").port, description="HTTP port (also serves /metrics).")
    state_path: Path = Field(
        default_factory=lambda: local_stack_state_dir() / "payouts-sim" / "payouts.sqlite3",
        description="SQLite file holding the payouts; a restart keeps them. Default: in the local stack's state.",
    )
    api_key: SecretStr | None = Field(
        default=None,
        description="Bearer token callers of /v1 must send (the payment connector's `api_key`); unset: none asked.",
    )
