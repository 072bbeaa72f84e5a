"""One whole pipeline for the reduced fault and bad-input suites (`make test`), on the session's stack.

Private topics, consumer groups, ports and database; the shared Redis (keys are per tenant). The
full suites (`make chaos`, `make fuzz`) build their own, on a private three-broker cluster,
PostgreSQL and Redis that they may kill.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from aios.db.scratch import scratch_database
from aios.inference.training import TrainResult
from aios.settings import ConnectionSettings
from tests.support.http_target import HttpTarget
from tests.support.pipeline import Pipeline, running_pipeline

POLICY = """
tenant: {tenant}
rules:
  - name: out-of-scope
    when: {oos: true}
    reject:
      reason: outside what this desk answers
  - name: personal-data
    when: {pii_found: true}
    review:
      reason: the message contains personal data
      sla: 2h
  - name: large-amount
    when:
      attributes:
        amount: {gt: 1000}
    review:
      reason: amount above 1000
      sla: 2h
      actions:
        - type: webhook.post
          params: {customer: "{attributes.customer}", amount: "{attributes.amount}", body: "{draft}"}
default:
  auto:
    reason: routine question answered from the knowledge base
    actions:
      - type: webhook.post
        params: {customer: "{attributes.customer}", subject: "Re: {label}", body: "{draft}"}
"""
"""Out of scope is rejected, personal data and large amounts go to a person, the rest is answered by webhook."""


def model_labels(model: TrainResult) -> set[str]:
    return set(model.model.labels) - {"oos"}


@pytest.fixture(scope="package")
def pipeline(
    connection: ConnectionSettings, tiny_versions: list[TrainResult], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pipeline]:
    target = HttpTarget(secret="chaos-webhook-secret").start()
    try:
        with scratch_database(connection.postgres_dsn.get_secret_value(), "aios_test") as dsn:
            private = connection.model_copy(update={"postgres_dsn": SecretStr(dsn)})
            with running_pipeline(private, tmp_path_factory.mktemp("pipeline"), tiny_versions[0]) as pipeline:
                pipeline.add_tenant("chaos", POLICY, target)
                pipeline.start()
                yield pipeline
    finally:
        target.stop()
