"""`services.triton` end to end: a real tritonserver (pytriton) serving registry versions to `TritonBackend`.

Each test gets a database of its own, so the server sees exactly the aliases the test makes and
none left by other tests. The model is tiny (8 intents x 20 examples plus out-of-scope examples,
frozen encoder) so training both versions takes seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from aios.classify.routes import ModelRef
from aios.classify.triton_backend import TritonBackend
from aios.inference.classifier import Prediction, TextClassifier
from aios.inference.model_registry import LocalArtifactStore, ModelVersion
from aios.inference.training import TrainResult
from aios.inference.triton_process import TritonProcess, start_triton
from aios.kafka.errors import TransientError
from tests.support.tiny_models import ClincSubset, publish

NAME = "intents-triton"


@pytest.fixture
def store(tmp_path: Path) -> LocalArtifactStore:
    return LocalArtifactStore(tmp_path / "models")


@pytest.fixture
def triton(tmp_path: Path, store: LocalArtifactStore) -> Iterator[Callable[[str], TritonProcess]]:
    """Start the triton service against a database (`AIOS_TRITON_MAX_BATCH_SIZE` 16: the client must split)."""
    started: list[TritonProcess] = []

    def start(dsn: str) -> TritonProcess:
        started.append(start_triton(dsn, store.root_dir, tmp_path, max_batch_size=16))
        return started[-1]

    yield start
    for service in started:
        service.stop()


def _wait_for_log(service: TritonProcess, text: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while text not in service.log_text():
        assert time.monotonic() < deadline, f"{text!r} not logged:\n{service.log_text()[-4000:]}"
        time.sleep(0.2)


def _assert_same(remote: list[Prediction], local: list[Prediction]) -> None:
    assert [(p.label, p.oos) for p in remote] == [(p.label, p.oos) for p in local]
    assert [[label for label, _ in p.top_k] for p in remote] == [[label for label, _ in p.top_k] for p in local]
    for got, want in zip(remote, local, strict=True):
        assert got.confidence == pytest.approx(want.confidence, abs=1e-3)
        assert [s for _, s in got.top_k] == pytest.approx([s for _, s in want.top_k], abs=1e-3)


def test_ready_without_models(migrated_database: str, triton: Callable[[str], TritonProcess]) -> None:
    service = triton(migrated_database)
    assert httpx.get(f"{service.url}/v2/health/live", timeout=5).status_code == 200
    _wait_for_log(service, "waiting for a promotion", 10)
    backend = TritonBackend(service.url)
    try:
        missing = ModelVersion(NAME, 1, "file:///nowhere", "", {}, [], datetime.now(UTC))
        assert backend.prepare([missing], timeout_s=1) == set(), "a version the server lacks is not servable"
        with pytest.raises(TransientError, match="unknown model"):
            backend.predict(ModelRef(NAME, 1), ["hello"], 3)
    finally:
        backend.close()
    service.stop()
    assert service.process.returncode == 0, service.log_text()[-4000:]  # SIGTERM is a clean exit


def test_serves_promoted_versions_like_torch(
    migrated_database: str,
    store: LocalArtifactStore,
    triton: Callable[[str], TritonProcess],
    tiny_versions: list[TrainResult],
    clinc_small: ClincSubset,
) -> None:
    first = publish(migrated_database, store, NAME, tiny_versions[0], "production")
    service = triton(migrated_database)
    backend = TritonBackend(service.url)
    texts = [example.text for example in clinc_small.test]
    try:
        assert backend.prepare([first], timeout_s=60) == {ModelRef(NAME, 1)}
        local = TextClassifier.load(store.fetch(first.artifact_uri), device="cpu").predict(texts, 3)
        assert any(p.oos for p in local) and not all(p.oos for p in local)
        _assert_same(backend.predict(ModelRef(NAME, 1), texts, 3), local)

        # Concurrent requests are merged by the dynamic batcher and split back per request.
        chunks = [texts[i : i + 7] for i in range(0, len(texts), 7)]
        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(lambda chunk: backend.predict(ModelRef(NAME, 1), chunk, 3), chunks))
        _assert_same([p for answer in answers for p in answer], local)

        promoted_at = time.monotonic()
        second = publish(migrated_database, store, NAME, tiny_versions[1], "canary")
        assert backend.prepare([second], timeout_s=10) == {ModelRef(NAME, 2)}
        assert time.monotonic() - promoted_at < 10
        assert service.process.poll() is None and service.log_text().count("Triton is serving HTTP") == 1
        local_second = TextClassifier.load(store.fetch(second.artifact_uri), device="cpu").predict(texts, 3)
        assert [p.confidence for p in local_second] != [p.confidence for p in local]
        _assert_same(backend.predict(ModelRef(NAME, 2), texts, 3), local_second)
        _assert_same(backend.predict(ModelRef(NAME, 1), texts, 3), local)
    finally:
        backend.close()
