"""Extract worker settings, read from `AIOS_EXTRACT_*` environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from aios.kafka import topics
from aios.kafka.topics import topic_field
from aios.runtime.catalog import service
from aios.runtime.worker import WorkerSettings


class ExtractSettings(WorkerSettings):
    model_config = SettingsConfigDict(env_prefix="AIOS_EXTRACT_", extra="ignore", frozen=True)

    group_id: str = Field(default="extract", description="Consumer group; instances in it share the partitions.")
    input_topic: str = topic_field(topics.DOCUMENTS_RECEIVED, "References of stored documents to read.")
    extracted_topic: str = topic_field(topics.DOCUMENTS_EXTRACTED, "Where what was read from each document goes.")
    events_topic: str = topic_field(
        topics.EVENTS_RECEIVED, "Where each document goes on as an ordinary event (its text, fields as attributes)."
    )
    max_batch: int | None = Field(
        default=4,
        ge=1,
        description="Documents handed to the handler at once: few, so a batch of slow scans stays well inside"
        " the consumer's poll interval.",
    )
    time_budget_s: float = Field(
        default=60.0,
        gt=0,
        description="Longest a document may take; past it the reader is killed and it goes to review.",
    )
    memory_limit_mb: int = Field(
        default=4096, ge=256, description="Address space of the reading process: a decompression bomb fails inside it."
    )
    metrics_port: int = Field(default=service("extract").port, ge=0, description="Serves /metrics; 0 turns it off.")

    def input_topics(self) -> list[str]:
        return [self.input_topic]
