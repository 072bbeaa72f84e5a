"""Act service settings, read from `AIOS_ACT_*` environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from aios.kafka import topics
from aios.kafka.topics import topic_field
from aios.runtime.catalog import service
from aios.runtime.worker import OneToOneSettings


class ActSettings(OneToOneSettings):
    model_config = SettingsConfigDict(env_prefix="AIOS_ACT_", extra="ignore", frozen=True)

    group_id: str = Field(default="act", description="Consumer group; instances in it share the partitions.")
    input_topic: str = topic_field(topics.DECISIONS, "Where decisions are read.")
    output_topic: str = topic_field(topics.ACTIONS_EXECUTED, "Where action results are written.")
    concurrency: int = Field(default=32, ge=1, description="Actions one instance performs at once.")
    tenant_concurrency: int = Field(
        default=4, ge=1, description="Actions of one tenant an instance performs at once: a slow target holds no more."
    )
    poll_interval_s: float = Field(
        default=0.25, gt=0, description="How often due actions (retries, other instances' intake) are looked for."
    )
    lease_s: float = Field(
        default=360.0,
        gt=0,
        description="How long a claimed action is an instance's; past it (a crash) another instance runs it again.",
    )
    config_cache_s: float = Field(default=5.0, ge=0, description="How long a tenant's connector settings are cached.")
    publish_batch: int = Field(default=500, ge=1, description="Outbox records produced per transaction.")
    drain_s: float = Field(default=30.0, ge=0, description="On SIGTERM, how long actions under way may finish.")
    metrics_port: int = Field(default=service("act").port, ge=0, description="Serves /metrics; 0 turns it off.")
