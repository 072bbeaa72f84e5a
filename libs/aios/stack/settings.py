"""Where the local stack keeps its state and which loopback ports it listens on."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from aios.settings import (
    LOCAL_JAEGER_OTLP_PORT,
    LOCAL_JAEGER_QUERY_PORT,
    LOCAL_KAFKA_PORT,
    LOCAL_LLM_PORT,
    LOCAL_POSTGRES_PORT,
    LOCAL_PROMETHEUS_PORT,
    LOCAL_REDIS_PORT,
    LOCAL_REGISTRY_PORT,
    LOCAL_S3_PORT,
    local_stack_state_dir,
)


def _default_cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "aios"


class StackSettings(BaseSettings):
    """The local stack's layout; `AIOS_STACK_*` variables move it (tests run a second one)."""

    model_config = SettingsConfigDict(env_prefix="AIOS_STACK_", extra="ignore", frozen=True)

    state_dir: Path = Field(
        default_factory=local_stack_state_dir,
        description="State, data and logs of every component (git-ignored).",
    )
    cache_dir: Path = Field(
        default_factory=_default_cache,
        description="Downloads and builds that survive `stack down --purge`: the Kafka jars, the Jaeger binary.",
    )
    host: str = Field(default="127.0.0.1", description="Loopback address every component binds.")
    kafka_port: int = Field(
        default=LOCAL_KAFKA_PORT,
        description="Client port of broker 1; broker n listens on kafka_port + 100*(n-1).",
    )
    registry_port: int = Field(default=LOCAL_REGISTRY_PORT, description="Schema registry port.")
    postgres_port: int = Field(default=LOCAL_POSTGRES_PORT, description="PostgreSQL port.")
    redis_port: int = Field(default=LOCAL_REDIS_PORT, description="Redis port.")
    prometheus_port: int = Field(default=LOCAL_PROMETHEUS_PORT, description="Prometheus port.")
    jaeger_otlp_port: int = Field(
        default=LOCAL_JAEGER_OTLP_PORT,
        description="Jaeger's OTLP/HTTP receiver, where services export spans; OTLP/gRPC on jaeger_otlp_port - 1.",
    )
    jaeger_query_port: int = Field(
        default=LOCAL_JAEGER_QUERY_PORT,
        description="Jaeger's query API and UI; its gRPC query API on jaeger_query_port - 1.",
    )
    security: bool = Field(
        default=True,
        description=(
            "Kafka on SASL_SSL (SCRAM-SHA-512, TLS from the stack's CA) with ACLs, registry basic auth, "
            "PostgreSQL SCRAM over TLS with a role per service, Redis ACL users per service. "
            "false (AIOS_STACK_SECURITY=false) is for development only: PLAINTEXT, no ACLs, an open registry, "
            "trusted PostgreSQL and an open Redis. "
            "Fixed when Kafka's storage is formatted."
        ),
    )
    s3_port: int = Field(
        default=LOCAL_S3_PORT,
        description="SeaweedFS's S3 API; its master, volume server and filer on s3_port + 1, 2, 3 (gRPC + 10001..3).",
    )
    llm_port: int = Field(
        default=LOCAL_LLM_PORT, description="The local model server's OpenAI-compatible API (when installed)."
    )
    llm_threads: int = Field(default=2, ge=1, description="CPU threads the local model server decodes with.")
    kafka_heap: str = Field(default="768m", description="JVM heap of each Kafka broker.")
    start_timeout_s: float = Field(default=90.0, description="How long a component may take to be healthy.")
    postgres_user: str = Field(
        default="postgres",
        description="OS user PostgreSQL runs as when the stack is started by root.",
    )
