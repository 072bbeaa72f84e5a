"""Audit service settings, read from `AIOS_AUDIT_*` environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

LOCAL_AUDIT_PORT = 28060


class AuditSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AIOS_AUDIT_", extra="ignore", frozen=True)

    group_id: str = Field(default="audit", description="Consumer group; instances in it share the partitions.")
    topics: list[str] | None = Field(
        default=None, description="Topics to record (JSON list); default: every topic of infra/topics.yaml."
    )
    carries: dict[str, str] = Field(
        default_factory=dict,
        description="Topics outside the catalogue → the catalogue topic whose schema they carry (JSON object).",
    )
    max_batch: int = Field(
        default=2000,
        ge=1,
        description="Records per append transaction (the consumer loop's batch; AIOS_LOOP_MAX_BATCH does not apply).",
    )
    host: str = Field(default="127.0.0.1", description="Address the auditor API binds.")
    port: int = Field(default=LOCAL_AUDIT_PORT, ge=0, description="Auditor API, /healthz, /readyz and /metrics.")
    retention_days: int = Field(
        default=0, ge=0, description="Days rows are kept for tenants without their own retention; 0 keeps them."
    )
    prune_interval_s: float = Field(default=3600.0, gt=0, description="How often expired rows are removed.")
    auth_cache_s: float = Field(default=30.0, ge=0, description="How long a resolved auditor key is cached.")
