"""The infer service as a real process on its own database (registry and tenants), and models to call."""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from aios.db.pool import open_pool
from aios.inference.model_registry import LocalArtifactStore, ModelRegistry, ModelVersion
from aios.inference.training import TrainResult
from aios.settings import ConnectionSettings
from aios.tenants.store import IssuedKey, TenantStore
from tests.support.http_target import free_port
from tests.support.services import ServiceProcess, stack_env
from tests.support.tiny_models import publish

STOPPED = (0, -signal.SIGTERM)
"""Exit statuses of a clean stop: uvicorn drains, runs the lifespan's shutdown, then re-raises SIGTERM."""


class InferProcess(ServiceProcess):
    def __init__(
        self, dsn: str, store: LocalArtifactStore, connection: ConnectionSettings, log_dir: Path, **settings: str
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **stack_env(connection, dsn),
            "AIOS_INFER_PORT": str(self.port),
            "AIOS_INFER_POLL_INTERVAL_S": "0.3",
            "AIOS_MODEL_ARTIFACT_DIR": str(store.root_dir),
            "AIOS_MODEL_DEVICE": "cpu",
            **{f"AIOS_INFER_{key.upper()}": value for key, value in settings.items()},
        }
        super().__init__("services.infer", env, log_dir / f"infer-{self.port}.log")
        deadline = time.monotonic() + 120
        while not self._ready():
            assert self.running(), self.log()[-4000:]
            assert time.monotonic() < deadline, self.log()[-4000:]
            time.sleep(0.3)

    def _ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/v2/health/ready", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False


class Models:
    """Registers and promotes models in the service's database, and waits until the service serves them."""

    def __init__(self, dsn: str, store: LocalArtifactStore, versions: list[TrainResult]) -> None:
        self.dsn = dsn
        self.store = store
        self.versions = versions

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        async def run() -> Any:
            async with open_pool(self.dsn, max_size=1) as pool:
                return await getattr(ModelRegistry(pool), method)(*args, **kwargs)

        return asyncio.run(run())

    def new(self, seeds: int = 1, alias: str | None = "production") -> tuple[str, list[ModelVersion]]:
        """A fresh model name with `seeds` versions (weights of seeds 0, 1, ...); the first gets `alias`."""
        name = f"intents-{uuid.uuid4().hex[:8]}"
        registered = [
            publish(self.dsn, self.store, name, self.versions[i], alias if i == 0 else None) for i in range(seeds)
        ]
        return name, registered


@pytest.fixture(scope="module")
def infer_store(tmp_path_factory: pytest.TempPathFactory) -> LocalArtifactStore:
    return LocalArtifactStore(tmp_path_factory.mktemp("infer-models"))


@pytest.fixture(scope="module")
def models(module_database: str, infer_store: LocalArtifactStore, tiny_versions: list[TrainResult]) -> Models:
    return Models(module_database, infer_store, tiny_versions)


@pytest.fixture(scope="module")
def infer_url(
    module_database: str,
    infer_store: LocalArtifactStore,
    connection: ConnectionSettings,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    service = InferProcess(module_database, infer_store, connection, tmp_path_factory.mktemp("infer"))
    yield service.url
    assert service.stop() in STOPPED, service.log()[-4000:]


@pytest.fixture(scope="module")
def new_tenant(module_database: str) -> Callable[[], IssuedKey]:
    def create() -> IssuedKey:
        async def run() -> IssuedKey:
            async with open_pool(module_database, max_size=1) as pool:
                return await TenantStore(pool).create_tenant(f"tenant-{uuid.uuid4().hex[:8]}")

        return asyncio.run(run())

    return create


def wait_until_ready(url: str, name: str, api_key: str, timeout_s: float = 30) -> None:
    """The service has loaded `name` for this tenant (it polls the registry)."""
    deadline = time.monotonic() + timeout_s
    while httpx.get(f"{url}/v2/models/{name}/ready", headers=bearer(api_key), timeout=5).status_code != 200:
        assert time.monotonic() < deadline, f"{name} never became ready"
        time.sleep(0.2)


def bearer(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"}


def metric_sum(url: str, metric: str, **labels: str) -> float:
    """Sum of the service's samples of `metric` whose labels include `labels`."""
    families = text_string_to_metric_families(httpx.get(f"{url}/metrics", timeout=10).text)
    return sum(
        sample.value
        for family in families
        for sample in family.samples
        if sample.name == metric and labels.items() <= sample.labels.items()
    )


def wait_for_versions(url: str, name: str, api_key: str, versions: list[str], timeout_s: float = 30) -> None:
    """The service routes this tenant's calls to `name` to exactly these versions (production, canary)."""
    deadline = time.monotonic() + timeout_s
    while httpx.get(f"{url}/v2/models/{name}", headers=bearer(api_key), timeout=5).json().get("versions") != versions:
        assert time.monotonic() < deadline, f"{name} never served {versions}"
        time.sleep(0.2)
