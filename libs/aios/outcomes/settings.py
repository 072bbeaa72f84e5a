"""Outcome notifier settings, read from `AIOS_OUTCOMES_*` environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from aios.kafka import topics
from aios.kafka.topics import topic_field
from aios.runtime.catalog import service
from aios.runtime.worker import WorkerSettings


class OutcomesSettings(WorkerSettings):
    model_config = SettingsConfigDict(env_prefix="AIOS_OUTCOMES_", extra="ignore", frozen=True)

    group_id: str = Field(default="outcomes", description="Consumer group; instances in it share the partitions.")
    metrics_port: int = Field(default=service("outcomes").port, ge=0, description="Serves /metrics; 0 turns it off.")
    max_wait_ms: int | None = Field(
        default=5,
        ge=1,
        description="Longest wait to fill a batch: short, since a caller may be waiting on each record.",
    )
    decisions_topic: str = topic_field(topics.DECISIONS, "Decisions, with the actions they plan.")
    executed_topic: str = topic_field(topics.ACTIONS_EXECUTED, "Results of the decisions' actions.")
    review_requested_topic: str = topic_field(topics.REVIEW_REQUESTED, "Events sent to a person.")
    deadletter_topic: str = topic_field(topics.DEADLETTER, "Records a service gave up on.")
    ttl_s: int = Field(
        default=7 * 24 * 3600, ge=1, description="How long an event's outcome is kept (as `GET /v1/events/{id}`)."
    )

    callback_interval_s: float = Field(
        default=1.0, gt=0, description="How often owed outcome callbacks are looked for (new ones wake it at once)."
    )
    callback_timeout_s: float = Field(default=10.0, gt=0, description="How long one callback POST may take.")
    callback_attempts: int = Field(default=8, ge=1, description="POSTs of one outcome before it is given up.")
    callback_backoff_s: float = Field(
        default=1.0, gt=0, description="Wait after a callback's first failure; doubles after each further one."
    )
    callback_max_backoff_s: float = Field(default=300.0, gt=0, description="Longest wait between two attempts.")
    callback_batch: int = Field(default=100, ge=1, description="Callbacks claimed at once.")

    def input_topics(self) -> list[str]:
        return [self.decisions_topic, self.executed_topic, self.review_requested_topic, self.deadletter_topic]
