"""The service catalogue (`infra/services.yaml`): what `aios up` runs and where it listens.

The only home of the services' ports: each service's settings take their port defaults from here.
"""

from __future__ import annotations

from functools import cache
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

    @property
    def metrics_port(self) -> int:
        """Where the first instance serves Prometheus metrics."""
        return self.port + self.metrics_offset

    @property
    def local_url(self) -> str:
        """The first instance's base URL on the local machine."""
        return f"http://127.0.0.1:{self.port}"


def load_services(path: Path | None = None) -> list[ServiceSpec]:
    raw = yaml.safe_load((path or infra_dir() / "services.yaml").read_text()) or {}
    return [ServiceSpec.model_validate(entry) for entry in raw.get("services") or []]


@cache
def service(name: str) -> ServiceSpec:
    """The catalogue's entry for service `name`: its port is the default of the service's settings."""
    for spec in load_services():
        if spec.name == name:
            return spec
    raise KeyError(f"service {name!r} is not declared in infra/services.yaml")


class ServiceRuntime(BaseSettings):
    """What supervisor tells a service instance: its base port and instance number."""

    model_config = SettingsConfigDict(env_prefix="AIOS_SERVICE_", extra="ignore", frozen=True)

    port: int | None = Field(default=None, description="Base port of the service (set by `aios up`).")
    instance: int = Field(default=0, ge=0, description="Which of the service's processes this is.")

    def port_or(self, default: int) -> int:
        return (self.port or default) + self.instance
