"""A full batch queue answers 429 with Retry-After at once; the committed OpenAPI document is the live one,
and the live service keeps to it under fuzzing."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from aios.cli.infer import OPENAPI_PATH, openapi_document
from aios.inference.model_registry import LocalArtifactStore
from aios.paths import project_root
from aios.settings import ConnectionSettings
from aios.tenants.store import IssuedKey
from tests.integration.infer.conftest import STOPPED, InferProcess, Models, bearer, metric_sum, wait_until_ready
from tests.support.schemathesis import run_schemathesis


@pytest.fixture(scope="module")
def small_queue_url(
    module_database: str,
    infer_store: LocalArtifactStore,
    connection: ConnectionSettings,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """A service whose queue holds 4 texts and whose batches hold 1: a burst of callers overflows it."""
    service = InferProcess(
        module_database,
        infer_store,
        connection,
        tmp_path_factory.mktemp("infer-small"),
        max_queued_texts="4",
        max_batch_texts="1",
        retry_after_s="2",
    )
    yield service.url
    assert service.stop() in STOPPED, service.log()[-4000:]


def test_a_full_queue_answers_429_with_retry_after(
    small_queue_url: str, models: Models, new_tenant: Callable[[], IssuedKey]
) -> None:
    name, _ = models.new()
    tenant = new_tenant()
    wait_until_ready(small_queue_url, name, tenant.api_key)
    body = {"inputs": [{"name": "text", "shape": [1], "datatype": "BYTES", "data": ["where is my card"]}]}

    async def burst() -> list[httpx.Response]:
        async with httpx.AsyncClient(headers=bearer(tenant.api_key), timeout=60) as http:
            return await asyncio.gather(
                *(http.post(f"{small_queue_url}/v2/models/{name}/infer", json=body) for _ in range(40))
            )

    answers = asyncio.run(burst())
    statuses = Counter(answer.status_code for answer in answers)
    assert set(statuses) == {200, 429}, statuses
    assert statuses[200] >= 4, statuses
    for answer in answers:
        if answer.status_code == 429:
            assert answer.headers["Retry-After"] == "2"
            assert "waiting for the model" in answer.json()["error"]
    assert metric_sum(small_queue_url, "aios_infer_refused_total", reason="overloaded") == statuses[429]


def test_committed_openapi_is_current() -> None:
    committed = (project_root() / OPENAPI_PATH).read_text()
    assert committed == openapi_document(), f"run `aios infer openapi --write` and commit {OPENAPI_PATH}"


@pytest.mark.fuzz
def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    infer_url: str, models: Models, new_tenant: Callable[[], IssuedKey], tmp_path: Path
) -> None:
    """Fuzzes every operation with a valid key (a model named `intents` exists): no 5xx, every answer as documented."""
    tenant = new_tenant()
    models.call("promote", *_first_version(models), "production")
    wait_until_ready(infer_url, "intents", tenant.api_key)
    result = run_schemathesis(infer_url, tenant.api_key, tmp_path, max_examples=40, document=OPENAPI_PATH)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


def _first_version(models: Models) -> tuple[str, int]:
    """`intents` version 1 in the service's registry (registered on first use)."""
    from tests.support.tiny_models import publish

    if not models.call("versions", "intents"):
        publish(models.dsn, models.store, "intents", models.versions[0], None)
    return "intents", 1
