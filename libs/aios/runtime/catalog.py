"""The service catalogue (`infra/services.yaml`): what `aios up` runs and where it listens."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from aios.paths import infra_dir


class ServiceSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    module: str = Field(description="Python module run with `python -m`.")
    port: int = Field(ge=1, le=65535, description="HTTP port serving /healthz and /metrics.")
    description: str = ""
    health_path: str = "/healthz"
    numprocs: int = Field(default=1, ge=1, description="Instances; each after the first adds 1 to the port.")

    def ports(self) -> list[int]:
        return [self.port + i for i in range(self.numprocs)]


def load_services(path: Path | None = None) -> list[ServiceSpec]:
    raw = yaml.safe_load((path or infra_dir() / "services.yaml").read_text()) or {}
    return [ServiceSpec.model_validate(entry) for entry in raw.get("services") or []]
