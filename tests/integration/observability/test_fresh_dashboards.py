"""Zero, not nothing: on a fresh pipeline, with no error and no review yet, every dashboard panel has data.

A pipeline on private topics, scraped by a private Prometheus loaded with infra/prometheus/, gets a
few events that are all answered automatically. Dead letters, review verdicts, decisions after
review, refused sign-ins and failed actions never happened: their panels must say 0, not "No data".
The Documents dashboard is not asked here: no document flows (test_documents_dashboard.py asks it).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from aios.inference.training import TrainResult
from aios.settings import ConnectionSettings
from tests.support.dashboards import empty_panels
from tests.support.pipeline import private_pipeline, wait_for
from tests.support.scraping import private_prometheus
from tests.support.tiny_models import ClincSubset

pytestmark = pytest.mark.slow

ANSWER_ALL = """
tenant: {tenant}
default:
  auto:
    reason: answered
    actions:
      - type: log.record
        params: {message: "answered {label}"}
"""


@pytest.fixture(scope="module")
def fresh_prometheus(
    connection: ConnectionSettings,
    tiny_versions: list[TrainResult],
    clinc_small: ClincSubset,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    root = tmp_path_factory.mktemp("fresh")
    with private_pipeline(connection, root, tiny_versions[0], partitions=1, webhook_secret="fresh-secret") as (
        pipeline,
        target,
    ):
        tenant = pipeline.add_tenant(f"fresh-{pipeline.run}", ANSWER_ALL, target)
        # Drift is measured after a few events and review gauges counted each second, as in the
        # observability suite; nothing else differs from a pipeline's defaults.
        pipeline.envs["classify"].update(AIOS_CLASSIFY_DRIFT_INTERVAL_S="1", AIOS_CLASSIFY_DRIFT_MIN_EVENTS="5")
        pipeline.envs["review"]["AIOS_REVIEW_GAUGES_INTERVAL_S"] = "1"
        with private_prometheus(pipeline, root) as scraping:
            pipeline.start()
            # Two waves of texts the model knows (in scope, answered): a series first scraped
            # with its final value has no rate, the second wave gives the panels their rates.
            sent: set[str] = set()
            for wave in (clinc_small.train[:8], clinc_small.train[8:16]):
                sent.update(pipeline.submit(tenant, example.text) for example in wave)
                wait_for(
                    lambda: sent <= {r["event_id"] for r in pipeline.tail.values("executed")},
                    180,
                    "every event's action executed",
                    pipeline.logs,
                )
                wait_for(lambda: scraped(scraping.prometheus_url), 60, "every service scraped", pipeline.logs)
                time.sleep(6)  # one more scrape of every target: the wave's last increments are in
            assert not pipeline.tail.seen("deadletter") and not pipeline.tail.seen("review_requested")
            yield scraping.prometheus_url


def scraped(prometheus_url: str) -> bool:
    """Prometheus holds every service's records counter (so the wave's records are in its series)."""
    answer = httpx.get(
        f"{prometheus_url}/api/v1/query", params={"query": "count by (service) (aios_records_in_total)"}, timeout=30
    ).json()
    return {s["metric"]["service"] for s in answer["data"]["result"]} >= {"classify", "act", "audit"}


def test_every_panel_of_every_dashboard_has_data_before_any_error_or_review(fresh_prometheus: str) -> None:
    def query(expr: str) -> dict[str, object]:
        return dict(httpx.get(f"{fresh_prometheus}/api/v1/query", params={"query": expr}, timeout=30).json())

    report = empty_panels(query, timeout_s=120)
    assert not report, report
