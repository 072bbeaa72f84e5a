"""Decide service settings, read from `AIOS_DECIDE_*` environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from aios.kafka import topics
from aios.kafka.deadletter import MAX_RECORD_BYTES
from aios.kafka.topics import topic_field
from aios.paths import project_root
from aios.runtime.catalog import service


class DecideSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AIOS_DECIDE_", extra="ignore", frozen=True)

    app_id: str = Field(
        default="decide", description="Faust app id: the consumer group and the prefix of its internal topics."
    )
    enriched_topic: str = topic_field(topics.EVENTS_ENRICHED, "Events to decide.")
    completed_topic: str = topic_field(topics.REVIEW_COMPLETED, "Reviewers' verdicts.")
    decisions_topic: str = topic_field(topics.DECISIONS, "Final decisions.")
    review_requested_topic: str = topic_field(topics.REVIEW_REQUESTED, "Events sent to a human.")
    deadletter_topic: str = topic_field(topics.DEADLETTER, "Records that cannot be decided.")
    partitions: int = Field(
        default=6, ge=1, description="Partitions of the internal by-tenant topic and of the tables' changelogs."
    )
    replication_factor: int = Field(default=1, ge=1, description="Replication of the internal topics.")
    commit_interval_s: float = Field(
        default=0.5, gt=0, description="How often offsets are committed; outputs are produced before each commit."
    )
    session_timeout_s: float = Field(default=10.0, gt=0, description="Consumer group session timeout.")
    policy_poll_interval_s: float = Field(default=2.0, gt=0, description="How often active policy versions are read.")
    share_window_step_s: float = Field(
        default=60.0, gt=0, description="Step of the 5-minute hopping window of low-confidence shares (divides 300)."
    )
    stall_check_s: float = Field(default=10.0, gt=0, description="How often input partitions are checked for stalls.")
    stall_after_s: float = Field(
        default=30.0,
        gt=0,
        description="A partition whose fetch position stood still this long with records waiting is resumed.",
    )
    handler_retries: int = Field(default=3, ge=0, description="Retries of a failing record before it is dead-lettered.")
    max_record_bytes: int = Field(
        default=MAX_RECORD_BYTES,
        ge=1024,
        description="Larger input records (key, value, headers) are dead-lettered unread, kept only as a hash.",
    )
    no_policy_sla_s: int = Field(
        default=24 * 3600, ge=60, description="SLA of the review an event gets when its tenant has no policy."
    )
    data_dir: Path = Field(
        default_factory=lambda: project_root() / ".aios" / "faust",
        description="Faust's data directory (one sub-folder per app id); tables live in memory and changelogs.",
    )
    metrics_port: int = Field(default=service("decide").port, ge=0, description="Serves /metrics; 0 turns it off.")

    @model_validator(mode="after")
    def _window_fits(self) -> DecideSettings:
        if 300 % self.share_window_step_s:
            raise ValueError("share_window_step_s must divide 300 (the 5-minute window)")
        return self
