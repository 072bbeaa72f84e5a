"""Classify worker settings, read from `AIOS_CLASSIFY_*` environment variables."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from aios.kafka import topics
from aios.kafka.topics import topic_field
from aios.runtime.catalog import service
from aios.runtime.worker import OneToOneSettings


class ClassifySettings(OneToOneSettings):
    model_config = SettingsConfigDict(env_prefix="AIOS_CLASSIFY_", extra="ignore", frozen=True)

    model_name: str = Field(default="intents", description="Registry model whose global aliases classify events.")
    backend: Literal["torch", "triton"] = Field(default="torch", description="Where the forward pass runs.")
    triton_url: str = Field(
        default=service("triton").local_url, description="Triton HTTP endpoint for backend `triton`."
    )
    top_k: int = Field(default=3, ge=1, le=20, description="Labels with confidences kept per event.")
    group_id: str = Field(default="classify", description="Consumer group; workers in it share the partitions.")
    input_topic: str = topic_field(topics.EVENTS_RECEIVED, "Events to classify.")
    output_topic: str = topic_field(topics.EVENTS_CLASSIFIED, "Where classified events are written.")
    poll_interval_s: float = Field(default=2.0, gt=0, description="How often the registry's alias revision is read.")
    ready_timeout_s: float = Field(
        default=600.0, gt=0, description="How long to wait for a promoted model before giving up at start."
    )
    metrics_port: int = Field(default=service("classify").port, ge=0, description="Serves /metrics; 0 turns it off.")
    drift_interval_s: float = Field(default=30.0, gt=0, description="How often prediction drift is recomputed.")
    drift_window_s: float = Field(
        default=1800.0, gt=0, description="Predictions of the last this many seconds are compared with the reference."
    )
    drift_min_events: int = Field(
        default=500, ge=1, description="Fewest recent predictions of a version before its drift is exported."
    )
