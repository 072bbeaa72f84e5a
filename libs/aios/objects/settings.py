"""Where documents are stored, read from `AIOS_OBJECT_STORE_*` environment variables."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from aios.settings import LOCAL_S3_PORT


class ObjectStoreSettings(BaseSettings):
    """Any S3 API: the defaults are the local stack's SeaweedFS and the credentials it is started with."""

    model_config = SettingsConfigDict(env_prefix="AIOS_OBJECT_STORE_", extra="ignore", frozen=True)

    endpoint_url: str | None = Field(
        default=f"http://127.0.0.1:{LOCAL_S3_PORT}",
        description="S3 endpoint; None means AWS S3 itself (region and credentials from the usual AWS chain).",
    )
    region: str = Field(default="us-east-1", description="S3 region (SeaweedFS accepts any).")
    bucket: str = Field(default="aios-documents", description="The bucket every tenant's documents are kept in.")
    access_key_id: str | None = Field(default="aios-local", description="S3 access key; None: the AWS chain.")
    secret_access_key: SecretStr | None = Field(
        default=SecretStr("aios-local-secret"), description="S3 secret key; None: the AWS chain."
    )
    connect_timeout_s: float = Field(default=3.0, gt=0, description="How long connecting to the store may take.")
    read_timeout_s: float = Field(default=30.0, gt=0, description="How long one request may wait for an answer.")
    default_retention_days: int = Field(
        default=90, ge=1, description="How long a tenant's documents are kept unless it has its own retention."
    )
    tenant_retention_days: dict[str, int] = Field(
        default_factory=dict, description='Retention per tenant in days (JSON object, e.g. {"acme": 365}).'
    )

    def retention_days(self, tenant_id: str) -> int:
        return self.tenant_retention_days.get(tenant_id, self.default_retention_days)
