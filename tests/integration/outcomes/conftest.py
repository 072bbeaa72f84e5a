"""One whole pipeline, outcome notifier included, for the tests of callers who wait for an outcome."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aios.inference.training import TrainResult
from aios.settings import ConnectionSettings
from tests.support.pipeline import Pipeline, Tenant, private_pipeline

POLICY = """
tenant: {tenant}
rules:
  - name: asked-for-review
    when:
      text: {matches: '\\[review\\]'}
    review:
      reason: the sender asked for a person
      sla: 1h
  - name: asked-to-be-refused
    when:
      text: {matches: '\\[reject\\]'}
    reject:
      reason: the sender asked to be refused
default:
  auto:
    reason: answered
    actions:
      - type: webhook.post
        params: {customer: "{attributes.customer}", body: "{draft}"}
"""
"""Review and refusal on request; everything else answered by one webhook call."""

CLASSIFY_MAX_RECORD_BYTES = 4096
"""Classify dead-letters larger events (too large), which gives a valid event whose way ends in a dead letter."""

MAX_WAIT_S = 60
"""The edge's cap on `Prefer: wait`."""


@pytest.fixture(scope="package")
def waiting_pipeline(
    connection: ConnectionSettings, tiny_versions: list[TrainResult], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Pipeline, Tenant]]:
    root = tmp_path_factory.mktemp("outcomes")
    with private_pipeline(connection, root, tiny_versions[0], partitions=2, webhook_secret="wait-secret") as (
        pipeline,
        target,
    ):
        pipeline.envs["classify"]["AIOS_LOOP_MAX_RECORD_BYTES"] = str(CLASSIFY_MAX_RECORD_BYTES)
        pipeline.envs["ingest"]["AIOS_INGEST_MAX_WAIT_S"] = str(MAX_WAIT_S)
        tenant = pipeline.add_tenant(f"waiter-{pipeline.run}", POLICY, target)
        pipeline.start()
        yield pipeline, tenant
