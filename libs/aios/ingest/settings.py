"""Ingest settings, read from `AIOS_INGEST_*` environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from aios.kafka import topics
from aios.kafka.topics import topic_field
from aios.runtime.catalog import service


class IngestSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AIOS_INGEST_", extra="ignore", frozen=True)

    host: str = Field(default="127.0.0.1", description="Address the HTTP server binds.")
    port: int = Field(default=service("ingest").port, description="HTTP port (also serves /metrics).")
    workers: int = Field(
        default=2, ge=1, description="uvicorn worker processes; each has its own Kafka producer and pools."
    )
    public_url: str | None = Field(
        default=None, description="Base URL callers use, for `status_url`; defaults to http://host:port."
    )
    max_body_bytes: int = Field(default=256 * 1024, ge=1, description="Larger requests get 413.")
    body_timeout_s: float = Field(
        default=10.0, gt=0, description="A submission whose body has not fully arrived by then gets 408 and is closed."
    )
    keep_alive_s: int = Field(default=5, ge=1, description="An idle keep-alive connection is closed after this.")
    max_connections: int = Field(
        default=1000,
        ge=1,
        description="Connections and requests one worker holds at once; more get 503 at once (uvicorn's"
        " limit_concurrency), so stalled clients cannot exhaust a worker's file descriptors.",
    )
    ack_timeout_s: float = Field(
        default=5.0, gt=0, description="How long a request waits for the broker's ack before answering 503."
    )
    signature_tolerance_s: int = Field(
        default=300, ge=1, description="Accepted clock skew of webhook signature timestamps."
    )
    idempotency_ttl_s: int = Field(
        default=24 * 3600, ge=1, description="How long a retried Idempotency-Key returns the same event."
    )
    quota_rate_per_s: float = Field(default=200.0, gt=0, description="Sustained events per second per tenant.")
    quota_burst: int = Field(default=400, ge=1, description="Events a tenant may send at once above the rate.")
    auth_cache_s: float = Field(
        default=30.0, ge=0, description="How long a resolved API key or webhook secret is cached in-process."
    )
    topic: str = topic_field(topics.EVENTS_RECEIVED, "Where accepted events are written (tests: a private copy).")
    max_wait_s: int = Field(
        default=30,
        ge=0,
        description="Longest `Prefer: wait=N` honoured: a larger N waits this long; 0 never waits.",
    )
    documents_topic: str = topic_field(topics.DOCUMENTS_RECEIVED, "Where accepted documents' references are written.")
    documents_max_bytes: int = Field(
        default=20 * 1024 * 1024, ge=1, description="Largest document file; larger get 413."
    )
    documents_max_pages: int = Field(default=50, ge=1, description="Most pages of a document; more get 413.")
    documents_max_pixels: int = Field(
        default=80_000_000, ge=1, description="Most pixels of an image page (a decompression bomb is refused with 422)."
    )
    documents_body_timeout_s: float = Field(
        default=120.0, gt=0, description="A document upload whose body has not fully arrived by then gets 408."
    )
    status_ttl_s: int = Field(default=7 * 24 * 3600, description="How long `GET /v1/events/{id}` knows an event.")

    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"
