"""Inference service settings, read from `AIOS_INFER_*` environment variables."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from aios.runtime.catalog import service


class InferSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AIOS_INFER_", extra="ignore", frozen=True)

    host: str = Field(default="127.0.0.1", description="Address the HTTP server binds.")
    port: int = Field(default=service("infer").port, description="HTTP port (also serves /metrics).")
    backend: Literal["torch", "triton"] = Field(default="torch", description="Where the forward pass runs.")
    triton_url: str = Field(
        default=service("triton").local_url, description="Triton HTTP endpoint for backend `triton`."
    )
    top_k: int = Field(
        default=3, ge=1, le=20, description="Labels with confidences returned when a request names none."
    )
    max_top_k: int = Field(default=10, ge=1, le=50, description="Most labels a request may ask for (`top_k`).")
    max_batch_texts: int = Field(
        default=64, ge=1, description="A batch closes when it holds this many texts (requests are never split)."
    )
    max_wait_ms: float = Field(
        default=10.0,
        ge=0,
        description="A batch closes this long after its first request arrived, full or not. On a loaded 2-core"
        " machine 25 ms gave 16 callers 1.8x the rate of 2 ms at half the p99 (fuller batches).",
    )
    max_queued_texts: int = Field(
        default=512,
        ge=1,
        description="Texts waiting for a batch, all models together; a request that would pass it gets 429.",
    )
    retry_after_s: int = Field(default=1, ge=1, description="`Retry-After` of a 429 or 503 answer.")
    max_texts: int = Field(default=256, ge=1, description="Texts one request may carry; more get 400.")
    max_text_chars: int = Field(default=10_000, ge=1, description="Characters one text may have; longer get 400.")
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1, description="Larger request bodies get 413.")
    poll_interval_s: float = Field(default=2.0, gt=0, description="How often the registry's alias revision is read.")
    auth_cache_s: float = Field(default=30.0, ge=0, description="How long a resolved API key is cached in-process.")
    drift_interval_s: float = Field(default=30.0, gt=0, description="How often prediction drift is recomputed.")
    drift_window_s: float = Field(
        default=1800.0, gt=0, description="Predictions of the last this many seconds are compared with the reference."
    )
    drift_min_events: int = Field(
        default=500, ge=1, description="Fewest recent predictions of a version before its drift is exported."
    )
