"""Model artifacts: the SHA-256 recorded at registration is checked at every load; a changed artifact is
refused with a clear error and counted, and the worker goes on serving the version it had."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from aios.classify.routes import ModelRef
from aios.classify.torch_backend import TorchBackend
from aios.db.scratch import scratch_database
from aios.inference.integrity import ArtifactTamperedError
from aios.inference.loading import load_version
from aios.inference.model_registry import LocalArtifactStore
from aios.inference.settings import ModelSettings
from aios.settings import ConnectionSettings
from tests.support.tiny_models import clinc_subset, publish, train_versions


@pytest.fixture(scope="module")
def dsn(connection: ConnectionSettings) -> Iterator[str]:
    with scratch_database(connection.postgres_dsn.get_secret_value()) as dsn:
        yield dsn


def _refused(name: str, version: int) -> float:
    return REGISTRY.get_sample_value("aios_model_artifact_refused_total", {"model": name, "version": str(version)}) or 0


def test_a_changed_artifact_is_refused_and_the_previous_version_keeps_serving(dsn: str, tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "artifacts")
    first, second = train_versions(clinc_subset(intents=4, per_intent=10, oos=10))
    serving = publish(dsn, store, "intent", first, "production")
    promoted = publish(dsn, store, "intent", second, "production")
    assert serving.artifact_sha256 and promoted.artifact_sha256 and serving.artifact_sha256 != promoted.artifact_sha256
    settings = ModelSettings()
    backend = TorchBackend(store, settings)
    assert backend.prepare([serving]) == {ModelRef("intent", serving.version)}

    folder = store.fetch(promoted.artifact_uri)
    victim = next(p for p in sorted(folder.rglob("*")) if p.is_file())
    victim.write_bytes(victim.read_bytes() + b"\0")  # one byte appended to one file
    with pytest.raises(ArtifactTamperedError, match=f"model intent:{promoted.version} refused: its artifact at"):
        load_version(store, promoted, settings)
    before = _refused("intent", promoted.version)
    assert backend.prepare([serving, promoted]) == {ModelRef("intent", serving.version)}
    assert _refused("intent", promoted.version) == before + 1
    assert backend.predict(ModelRef("intent", serving.version), ["what is my balance"], k=1)
