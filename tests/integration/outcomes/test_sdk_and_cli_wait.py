"""The SDK's `submit(..., wait=N)` and `aios submit --wait N` against the live pipeline."""

from __future__ import annotations

import asyncio
import json

from aios.client import AiosClient, AsyncAiosClient, Submitted
from tests.support.cli import aios
from tests.support.pipeline import Pipeline, Tenant


def test_the_sdks_submit_with_wait_returns_the_outcome(waiting_pipeline: tuple[Pipeline, Tenant]) -> None:
    pipeline, tenant = waiting_pipeline
    with AiosClient(pipeline.url("ingest"), tenant.api_key) as client:
        answer = client.submit("support.ticket", "[reject] sdk, blocking", wait=60)
        assert answer.outcome is not None and answer.outcome["kind"] == "rejected"
        assert client.status(answer.event_id)["outcome"] == answer.outcome

    async def submit_async() -> Submitted:
        async with AsyncAiosClient(pipeline.url("ingest"), tenant.api_key) as client:
            return await client.submit("support.ticket", "[review] sdk, async", wait=60)

    waited = asyncio.run(submit_async())
    assert waited.outcome is not None and waited.outcome["kind"] == "review_requested"


def test_aios_submit_with_wait_prints_the_outcome(waiting_pipeline: tuple[Pipeline, Tenant]) -> None:
    pipeline, tenant = waiting_pipeline
    result = aios(
        "submit", "--type", "support.ticket", "--text", "[reject] from the shell", "--wait", "60",
        env={"AIOS_INGEST_URL": pipeline.url("ingest"), "AIOS_API_KEY": tenant.api_key},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["outcome"]["kind"] == "rejected" and printed["status_url"].endswith(printed["event_id"])
