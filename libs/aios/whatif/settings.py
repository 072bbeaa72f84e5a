"""Where `aios replay` reads recorded traffic, from `AIOS_REPLAY_*` environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from aios.kafka import topics
from aios.kafka.topics import topic_field


class ReplaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AIOS_REPLAY_", extra="ignore", frozen=True)

    enriched_topic: str = topic_field(topics.EVENTS_ENRICHED, "The events decide saw: what is replayed.")
    decisions_topic: str = topic_field(topics.DECISIONS, "What decide really decided.")
    review_requested_topic: str = topic_field(topics.REVIEW_REQUESTED, "Events decide really sent to review.")
    review_completed_topic: str = topic_field(topics.REVIEW_COMPLETED, "Reviewers' verdicts.")
    warmup_s: float = Field(
        default=300.0,
        ge=0,
        description="Traffic before the window counted into the tenant's stream state only, so rules on the "
        "last 5 minutes see the same numbers at the window's start as decide did.",
    )
