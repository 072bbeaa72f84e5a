"""Audit service settings, read from `AIOS_AUDIT_*` environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from aios.kafka.topics import CATALOGUE
from aios.runtime.catalog import service
from aios.runtime.worker import WorkerSettings
from aios.stack.settings import StackSettings


class AuditSettings(WorkerSettings):
    model_config = SettingsConfigDict(env_prefix="AIOS_AUDIT_", extra="ignore", frozen=True)

    group_id: str = Field(default="audit", description="Consumer group; instances in it share the partitions.")
    topics: list[str] | None = Field(
        default=None, description="Topics to record (JSON list); default: every topic of infra/topics.yaml."
    )
    carries: dict[str, str] = Field(
        default_factory=dict,
        description="Topics outside the catalogue → the catalogue topic whose schema they carry (JSON object).",
    )
    max_batch: int | None = Field(
        default=2000,
        ge=1,
        description="Records per append transaction (the consumer loop's batch; AIOS_LOOP_MAX_BATCH does not apply).",
    )
    host: str = Field(default="127.0.0.1", description="Address the auditor API binds.")
    port: int = Field(default=service("audit").port, ge=0, description="Auditor API, /healthz, /readyz and /metrics.")
    metrics_port: int = Field(
        default=0, ge=0, description="A /metrics port of its own; 0: only the auditor API (`port`) serves them."
    )
    retention_days: int = Field(
        default=0, ge=0, description="Days rows are kept for tenants without their own retention; 0 keeps them."
    )
    prune_interval_s: float = Field(default=3600.0, gt=0, description="How often expired rows are removed.")
    signed_heads_path: Path = Field(
        default_factory=lambda: StackSettings().state_dir / "audit" / "signed-heads.jsonl",
        description="File the signed chain heads are appended to, outside PostgreSQL (`aios audit verify` reads it).",
    )
    sign_heads_interval_s: float = Field(
        default=60.0, gt=0, description="How often the heads of the chains that moved are signed and written."
    )
    auth_cache_s: float = Field(default=30.0, ge=0, description="How long a resolved auditor key is cached.")

    def input_topics(self) -> list[str]:
        return self.topics or CATALOGUE.names()

    def topic_schemas(self) -> dict[str, str]:
        return dict(self.carries)
