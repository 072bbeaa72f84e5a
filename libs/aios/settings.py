"""Connection settings every service shares: where Kafka, the registry and the databases are.

The defaults are the endpoints of the local stack (`aios stack up`), so a service started on a
developer machine needs no configuration; production sets the `AIOS_*` variables.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from aios.paths import project_root

LOCAL_KAFKA_PORT = 29092
LOCAL_REGISTRY_PORT = 28081
LOCAL_POSTGRES_PORT = 25432
LOCAL_REDIS_PORT = 26379
LOCAL_PROMETHEUS_PORT = 29090
LOCAL_JAEGER_OTLP_PORT = 24318
"""Jaeger's OTLP/HTTP receiver (gRPC on 24317)."""
LOCAL_JAEGER_QUERY_PORT = 26686
"""Jaeger's query API and UI (its gRPC query API on 26685)."""
LOCAL_S3_PORT = 28333
"""SeaweedFS's S3 API (its master, volume and filer on the next ports)."""
LOCAL_LLM_PORT = 28180
"""The local model server's OpenAI-compatible API (llama-cpp-python on SmolLM2), when it is installed."""


def local_stack_state_dir() -> Path:
    """Where the local stack keeps its state: `AIOS_STACK_STATE_DIR`, else `.aios/` in the checkout."""
    return Path(os.environ.get("AIOS_STACK_STATE_DIR") or project_root() / ".aios")


class ConnectionSettings(BaseSettings):
    """Endpoints of the shared infrastructure, read from `AIOS_*` environment variables."""

    model_config = SettingsConfigDict(env_prefix="AIOS_", extra="ignore", frozen=True)

    kafka_bootstrap: str = Field(
        default=f"127.0.0.1:{LOCAL_KAFKA_PORT}",
        description="Kafka bootstrap servers, comma separated.",
    )
    schema_registry_url: str = Field(
        default=f"http://127.0.0.1:{LOCAL_REGISTRY_PORT}",
        description="Base URL of the Confluent-compatible schema registry.",
    )
    kafka_security_protocol: Literal["SASL_SSL", "PLAINTEXT"] | None = Field(
        default=None,
        description="SASL_SSL (SCRAM-SHA-512 over TLS) or PLAINTEXT; unset: what the local stack runs.",
    )
    principal: str = Field(
        default="admin",
        description="Who this process is on Kafka (SCRAM user) and the schema registry; `aios up` names each service.",
    )
    principal_password: SecretStr | None = Field(
        default=None, description="The principal's password; unset: read from `credentials_file`."
    )
    credentials_file: Path | None = Field(
        default=None,
        description="JSON principal → password; unset: the local stack's `<state dir>/security/principals.json`.",
    )
    kafka_ca_location: Path | None = Field(
        default=None, description="CA certificate (PEM) the brokers' certificates chain to; unset: the local stack's."
    )
    postgres_dsn: SecretStr = Field(
        default=SecretStr(f"postgresql://127.0.0.1:{LOCAL_POSTGRES_PORT}/aios"),
        description=(
            "PostgreSQL connection string (libpq URI). Without a user: the principal's own role and password "
            "over TLS verified against the stack's CA (the stack's superuser when its security is off)."
        ),
    )
    redis_url: str = Field(
        default=f"redis://127.0.0.1:{LOCAL_REDIS_PORT}/0",
        description=(
            "Redis URL for quotas, replay protection and caches. Without a user: the principal's own ACL user "
            "and password when the stack is secure."
        ),
    )
    prometheus_url: str = Field(
        default=f"http://127.0.0.1:{LOCAL_PROMETHEUS_PORT}",
        description="Prometheus base URL, read by `aios top` and the dashboard tests.",
    )
    jaeger_url: str = Field(
        default=f"http://127.0.0.1:{LOCAL_JAEGER_QUERY_PORT}",
        description="Jaeger query API and UI base URL, read by `aios trace` and `aios audit show`.",
    )

    @model_validator(mode="after")
    def _principal_credentials(self) -> Self:
        """A DSN or URL that names no user gets the principal's: every service reaches the databases as itself."""
        from aios.datastores import login, postgres_dsn_for, redis_url_for

        found = login(self)
        # Frozen settings: the filled values replace the given ones once, here, before anyone reads them.
        object.__setattr__(
            self, "postgres_dsn", SecretStr(postgres_dsn_for(self.postgres_dsn.get_secret_value(), found))
        )
        object.__setattr__(self, "redis_url", redis_url_for(self.redis_url, found))
        return self
