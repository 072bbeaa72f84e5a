"""A registry of its own per test (two small versions of `intents`), and classify worker processes."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from aios.db.pool import open_pool
from aios.inference.classifier import TextClassifier
from aios.inference.model_registry import LocalArtifactStore, ModelRegistry
from aios.inference.training import TrainResult
from aios.paths import project_root
from aios.settings import ConnectionSettings
from tests.support.tiny_models import publish

MODEL = "intents"


class Registry:
    """Synchronous calls to the real model registry in the test's database."""

    def __init__(self, dsn: str, store: LocalArtifactStore) -> None:
        self.dsn = dsn
        self.store = store

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        async def run() -> Any:
            async with open_pool(self.dsn, max_size=1) as pool:
                return await getattr(ModelRegistry(pool), method)(*args, **kwargs)

        return asyncio.run(run())

    def load(self, version: int) -> TextClassifier:
        row = self.call("get", MODEL, version)
        return TextClassifier.load(self.store.fetch(row.artifact_uri), device="cpu")


@pytest.fixture
def registry(migrated_database: str, tmp_path: Path, tiny_versions: list[TrainResult]) -> Registry:
    """`intents` versions 1 and 2 (different weights, same labels); version 1 is production."""
    store = LocalArtifactStore(tmp_path / "models")
    publish(migrated_database, store, MODEL, tiny_versions[0], "production")
    publish(migrated_database, store, MODEL, tiny_versions[1], None)
    return Registry(migrated_database, store)


class ClassifyWorker:
    """`python -m services.classify` as its own process, on private topics."""

    def __init__(self, log_path: Path, env: dict[str, str]) -> None:
        self.log_path = log_path
        self.process = subprocess.Popen(
            [sys.executable, "-m", "services.classify"],
            env={**os.environ, **env},
            cwd=project_root(),
            stdout=log_path.open("wb"),
            stderr=subprocess.STDOUT,
        )

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> int:
        if self.running():
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


WorkerFactory = Callable[..., ClassifyWorker]


@pytest.fixture
def classify_worker(tmp_path: Path, connection: ConnectionSettings, registry: Registry) -> Iterator[WorkerFactory]:
    """`classify_worker(input, output, deadletter, group, **env)` starts a worker on the test's registry."""
    started: list[ClassifyWorker] = []

    def start(input_topic: str, output_topic: str, deadletter: str, group: str, **env: str) -> ClassifyWorker:
        settings = {
            "AIOS_CLASSIFY_MODEL_NAME": MODEL,
            "AIOS_CLASSIFY_INPUT_TOPIC": input_topic,
            "AIOS_CLASSIFY_OUTPUT_TOPIC": output_topic,
            "AIOS_CLASSIFY_GROUP_ID": group,
            "AIOS_CLASSIFY_METRICS_PORT": "0",
            "AIOS_CLASSIFY_POLL_INTERVAL_S": "1",
            "AIOS_LOOP_MAX_WAIT_MS": "50",
            "AIOS_LOOP_DEADLETTER_TOPIC": deadletter,
            "AIOS_KAFKA_BOOTSTRAP": connection.kafka_bootstrap,
            "AIOS_SCHEMA_REGISTRY_URL": connection.schema_registry_url,
            "AIOS_POSTGRES_DSN": registry.dsn,
            "AIOS_MODEL_ARTIFACT_DIR": str(registry.store.root_dir),
            "AIOS_MODEL_DEVICE": "cpu",
            **env,
        }
        started.append(ClassifyWorker(tmp_path / f"worker-{len(started)}.log", settings))
        return started[-1]

    yield start
    for worker in started:
        worker.stop()
