"""Review service settings, read from `AIOS_REVIEW_*` environment variables."""

from __future__ import annotations

import tempfile
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from aios.kafka import topics
from aios.kafka.topics import topic_field
from aios.runtime.catalog import service


class ReviewSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AIOS_REVIEW_", extra="ignore", frozen=True)

    host: str = Field(default="127.0.0.1", description="Address the HTTP server binds.")
    port: int = Field(default=service("review").port, description="HTTP port: pages, /healthz, /readyz and /metrics.")
    group_id: str = Field(default="review", description="Consumer group that stores review requests.")
    requested_topic: str = topic_field(topics.REVIEW_REQUESTED, "Review requests from decide.")
    completed_topic: str = topic_field(topics.REVIEW_COMPLETED, "Where verdicts are produced.")
    deadletter_topic: str = topic_field(topics.DEADLETTER, "Requests that cannot be stored.")
    claim_ttl_s: int = Field(default=600, ge=10, description="How long a claim locks an item for its reviewer.")
    session_ttl_s: int = Field(default=8 * 3600, ge=60, description="How long a sign-in lasts.")
    session_idle_s: int = Field(
        default=30 * 60, ge=10, description="A session ends this long after its last request, however young it is."
    )
    cookie_secure: bool = Field(
        default=False, description="Send cookies over HTTPS only; set true wherever the pages are served over TLS."
    )
    tls: bool = Field(
        default=False,
        description="Serve HTTPS (with HSTS and Secure cookies); without tls_certificate, a certificate signed by"
        " the local stack's CA is made in its state directory.",
    )
    tls_certificate: Path | None = Field(default=None, description="PEM certificate chain served when tls is on.")
    tls_key: Path | None = Field(default=None, description="PEM private key of tls_certificate.")
    outbox_interval_s: float = Field(
        default=1.0, gt=0, description="How often unpublished verdicts are retried (each verdict is sent at once too)."
    )
    outbox_ack_timeout_s: float = Field(default=10.0, gt=0, description="How long a publish waits for Kafka's acks.")
    max_draft_chars: int = Field(
        default=20_000,
        ge=1,
        description="Longest edited draft a verdict may carry; a longer one is refused (400) with the limit.",
    )
    max_reason_chars: int = Field(
        default=2_000,
        ge=1,
        description="Longest reason a verdict may give; a longer one is refused (400) with the limit.",
    )
    max_label_chars: int = Field(
        default=200, ge=1, description="Longest corrected intent a verdict may name; a longer one is refused (400)."
    )
    max_field_chars: int = Field(
        default=500, ge=1, description="Longest value a reviewer may give a document's field or line item cell (400)."
    )
    gauges_interval_s: float = Field(default=15.0, gt=0, description="How often open and overdue items are counted.")
    signin_window_s: int = Field(
        default=900, ge=1, description="Failed sign-ins are counted (in Redis) over this window since the last one."
    )
    signin_free_failures: int = Field(
        default=5, ge=0, description="Failures of one account within the window before each next attempt must wait."
    )
    signin_lockout_failures: int = Field(
        default=10, ge=1, description="Failures of one account within the window that lock it out."
    )
    signin_address_free_failures: int = Field(
        default=20, ge=0, description="Failures from one client address before each next attempt must wait."
    )
    signin_address_lockout_failures: int = Field(
        default=100, ge=1, description="Failures from one client address within the window that lock it out."
    )
    signin_delay_s: float = Field(
        default=1.0, gt=0, description="The first wait past the free failures; it doubles with each further failure."
    )
    signin_lockout_s: float = Field(default=900.0, gt=0, description="How long a lockout lasts (the longest wait).")
    signin_token_key: SecretStr | None = Field(
        default=None,
        description="Key that signs the sign-in form's CSRF token; give every instance the same one. Unset: a random"
        " key per process, so a sign-in page served before a restart must be reloaded.",
    )
    page_cache_dir: Path = Field(
        default=Path(tempfile.gettempdir()) / "aios-review-pages",
        description="Where rendered page pictures of documents under review are kept (by tenant, document hash,"
        " page and scale); any instance may share it or keep its own.",
    )
    page_scale: float = Field(
        default=1.5, gt=0.2, le=4.0, description="Pixels per PDF point of a page picture (1.5: 108 dpi)."
    )
