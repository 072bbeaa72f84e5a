"""Where a rollout reads the candidate's behaviour, from `AIOS_ROLLOUT_*` environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from aios.kafka import topics
from aios.kafka.topics import topic_field


class RolloutSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AIOS_ROLLOUT_", extra="ignore", frozen=True)

    classified_topic: str = topic_field(topics.EVENTS_CLASSIFIED, "What the candidate (and production) predicted.")
    completed_topic: str = topic_field(topics.REVIEW_COMPLETED, "Reviewers' verdicts: the overturns.")
    prometheus_url: str | None = Field(
        default=None,
        description="Prometheus to read latency, errors and drift from; default: the stack's; empty: none.",
    )
