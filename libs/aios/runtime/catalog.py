"""The service catalogue (`infra/services.yaml`): what `aios up` runs and where it listens."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from aios.paths import infra_dir


class ServiceSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    module: str = Field(description="Python module run with `python -m`.")
    port: int = Field(ge=1, le=65535, description="HTTP port serving /healthz and /metrics.")
    description: str = ""
    health_path: str = "/healthz"
    numprocs: int = Field(default=1, ge=1, description="Instances; each after the first adds 1 to the port.")
    endpoint: str | None = Field(
        default=None, description="Key under which `aios stack status` reports the service's URL."
    )

    metrics_offset: int = Field(
        default=0, ge=0, description="Prometheus metrics at port + offset (Triton serves them apart from HTTP)."
    )

    def ports(self) -> list[int]:
        return [self.port + i for i in range(self.numprocs)]

    def metrics_ports(self) -> list[int]:
        return [port + self.metrics_offset for port in self.ports()]


def load_services(path: Path | None = None) -> list[ServiceSpec]:
    raw = yaml.safe_load((path or infra_dir() / "services.yaml").read_text()) or {}
    return [ServiceSpec.model_validate(entry) for entry in raw.get("services") or []]


class ServiceRuntime(BaseSettings):
    """What supervisor tells a service instance: its base port and instance number."""

    model_config = SettingsConfigDict(env_prefix="AIOS_SERVICE_", extra="ignore", frozen=True)

    port: int | None = Field(default=None, description="Base port of the service (set by `aios up`).")
    instance: int = Field(default=0, ge=0, description="Which of the service's processes this is.")

    def port_or(self, default: int) -> int:
        return (self.port or default) + self.instance
