"""Classify worker settings, read from `AIOS_CLASSIFY_*` environment variables."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

LOCAL_CLASSIFY_PORT = 28010
LOCAL_TRITON_URL = "http://127.0.0.1:28100"
RECEIVED_TOPIC = "aios.events.received"
CLASSIFIED_TOPIC = "aios.events.classified"


class ClassifySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AIOS_CLASSIFY_", extra="ignore", frozen=True)

    model_name: str = Field(default="intents", description="Registry model whose global aliases classify events.")
    backend: Literal["torch", "triton"] = Field(default="torch", description="Where the forward pass runs.")
    triton_url: str = Field(default=LOCAL_TRITON_URL, description="Triton HTTP endpoint for backend `triton`.")
    top_k: int = Field(default=3, ge=1, le=20, description="Labels with confidences kept per event.")
    group_id: str = Field(default="classify", description="Consumer group; workers in it share the partitions.")
    input_topic: str = Field(default=RECEIVED_TOPIC)
    output_topic: str = Field(default=CLASSIFIED_TOPIC)
    poll_interval_s: float = Field(default=2.0, gt=0, description="How often the registry's alias revision is read.")
    ready_timeout_s: float = Field(
        default=600.0, gt=0, description="How long to wait for a promoted model before giving up at start."
    )
    metrics_port: int = Field(default=LOCAL_CLASSIFY_PORT, ge=0, description="Serves /metrics; 0 turns it off.")
    drift_interval_s: float = Field(default=30.0, gt=0, description="How often prediction drift is recomputed.")
    drift_window_s: float = Field(
        default=1800.0, gt=0, description="Predictions of the last this many seconds are compared with the reference."
    )
    drift_min_events: int = Field(
        default=500, ge=1, description="Fewest recent predictions of a version before its drift is exported."
    )
