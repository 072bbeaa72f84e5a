"""The whole pipeline (tests/support/pipeline.py) watched: a private Prometheus scrapes it, a collector gets its spans.

Started once per module on private topics, groups, ports and database: ingest (two workers),
classify (a production and a canary version), retrieve-generate, decide, review, act and audit,
plus the lag exporter. Every service exports its spans over OTLP to `OtlpCollector`. A Prometheus
of the real binary loads `infra/prometheus/` (configuration and alert rules) and scrapes exactly
these processes, so every series it holds was emitted by them. Events go in through ingest's API;
a reviewer completes reviews through the review pages.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from aios.inference.model_registry import LocalArtifactStore, ModelRegistry
from aios.inference.training import TrainResult
from aios.settings import ConnectionSettings
from tests.support.dashboards import panel_queries
from tests.support.database import call_database
from tests.support.kafka_io import produce_raw
from tests.support.otlp import OtlpCollector
from tests.support.pipeline import Pipeline, Tenant, private_pipeline, wait_for
from tests.support.scraping import private_prometheus
from tests.support.services import ServiceProcess
from tests.support.tiny_models import ClincSubset, publish
from tests.support.traffic import Reviewer

DESK = """
tenant: {tenant}
rules:
  - name: asked-for-review
    when:
      text: {matches: '\\[review\\]'}
    review:
      reason: the sender asked for a person
      sla: 1h
  - name: out-of-scope
    when: {oos: true}
    reject:
      reason: outside what this desk answers
default:
  auto:
    reason: answered
    actions:
      - type: log.record
        params: {message: "answered {label}"}
      - type: webhook.post
        params: {customer: "{attributes.customer}", body: "{draft}"}
"""
"""The desk: review on request, out of scope rejected, the rest answered by webhook and logged."""

BACKLOG = """
tenant: {tenant}
default:
  review:
    reason: every event is checked, within seconds
    sla: 2s
"""
"""A tenant whose reviewer is away: its items stay open and pass their SLA."""


@dataclass(frozen=True)
class Sent:
    event_id: str
    kind: str
    """auto, review, reject (out of scope), pii (auto, with an email address) or held (the backlog tenant)."""


@dataclass
class Watched:
    pipeline: Pipeline
    prometheus_url: str
    collector: OtlpCollector
    lag_exporter: ServiceProcess
    desk: Tenant
    backlog: Tenant
    sent: list[Sent] = field(default_factory=list)
    requests: int = 0
    """HTTP requests made to ingest's /v1/events."""

    @property
    def run(self) -> str:
        return self.pipeline.run

    @property
    def topics(self) -> dict[str, str]:
        return self.pipeline.topics

    def submit(self, tenant: Tenant, text: str, kind: str) -> str:
        response = self.post(text, tenant.api_key)
        assert response.status_code == 202, response.text
        event_id = str(response.json()["event_id"])
        self.sent.append(Sent(event_id, kind))
        return event_id

    def post(self, text: str | None, key: str) -> httpx.Response:
        body: dict[str, Any] = {"type": "support.ticket", "attributes": {"customer": "C-1"}}
        if text is not None:
            body["text"] = text
        self.requests += 1
        return httpx.post(
            f"{self.pipeline.url('ingest')}/v1/events",
            headers={"Authorization": f"Bearer {key}"},
            json=body,
            timeout=30,
        )

    def ids(self, *kinds: str) -> set[str]:
        return {s.event_id for s in self.sent if s.kind in kinds}

    def values(self, name: str, until: Callable[[list[dict[str, Any]]], bool], timeout_s: float = 180) -> list:
        """Decoded records of one of the pipeline's topics, once `until(records)` holds."""
        wait_for(lambda: until(self.pipeline.tail.values(name)), timeout_s, f"records on {name}", self.logs)
        return self.pipeline.tail.values(name)

    def query(self, expr: str) -> dict[str, Any]:
        response = httpx.get(f"{self.prometheus_url}/api/v1/query", params={"query": expr}, timeout=30)
        return dict(response.json())

    def logs(self) -> str:
        return f"{self.pipeline.logs()}\n--- lag-exporter\n{self.lag_exporter.log()[-2000:]}"


@pytest.fixture(scope="module")
def watched(
    connection: ConnectionSettings,
    tiny_versions: list[TrainResult],
    clinc_small: ClincSubset,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Watched]:
    root = tmp_path_factory.mktemp("watched")
    collector = OtlpCollector()
    running = private_pipeline(connection, root, tiny_versions[0], partitions=2, webhook_secret="observability-secret")
    try:
        with running as (pipeline, target):
            _canary(pipeline.dsn, LocalArtifactStore(root / "models"), tiny_versions[1])
            desk = pipeline.add_tenant(f"desk-{pipeline.run}", DESK, target)
            backlog = pipeline.add_tenant(f"backlog-{pipeline.run}", BACKLOG, target)
            _watch(pipeline, collector.url)
            with private_prometheus(pipeline, root) as scraping:
                assert scraping.lag_exporter is not None
                reviewer = Reviewer(pipeline, desk, lambda r: "APPROVE" if "approve" in r["text"] else "REJECT")
                watched = Watched(pipeline, scraping.prometheus_url, collector, scraping.lag_exporter, desk, backlog)
                try:
                    pipeline.start()
                    reviewer.start()
                    _drive(watched, clinc_small)
                    yield watched
                finally:
                    reviewer.stop()
    finally:
        collector.close()


def _canary(dsn: str, store: LocalArtifactStore, model: TrainResult) -> None:
    """A second version of `intents`, canary for half the events (each version has its own reference)."""
    version = publish(dsn, store, "intents", model, None).version
    call_database(dsn, lambda pool: ModelRegistry(pool).promote("intents", version, "canary", share=0.5))


def _watch(pipeline: Pipeline, collector_url: str) -> None:
    """Spans to the collector from every service; two ingest workers; drift and review gauges every second."""
    for env in pipeline.envs.values():
        env.update(AIOS_TRACING_OTLP_ENDPOINT=collector_url, OTEL_BSP_SCHEDULE_DELAY="200")
    pipeline.envs["ingest"]["AIOS_INGEST_WORKERS"] = "2"
    pipeline.envs["classify"].update(AIOS_CLASSIFY_DRIFT_INTERVAL_S="1", AIOS_CLASSIFY_DRIFT_MIN_EVENTS="5")
    pipeline.envs["review"]["AIOS_REVIEW_GAUGES_INTERVAL_S"] = "1"


def _drive(watched: Watched, clinc: ClincSubset) -> None:
    """Two waves of events of every kind, refused requests and poison records.

    Between the waves Prometheus scrapes every series the dashboards read: a counter first seen
    with its final value has no rate, so the second wave is what gives the panels their rates.
    """
    _wave(watched, clinc)
    _wait_scraped(watched)
    _wave(watched, clinc)


def _wave(watched: Watched, clinc: ClincSubset) -> None:
    desk = watched.desk
    intents = sorted({e.label for e in clinc.test if e.label != "oos"})
    # Two of the eight intents only: a stream unlike the versions' validation predictions (drift).
    for text in [e.text for e in clinc.test if e.label in intents[:2]]:
        watched.submit(desk, text, "auto")
    # A text the model was trained on (surely in scope, so drafted, so redacted) with an email address.
    watched.submit(desk, f"{clinc.train[0].text}, write to jane.doe@example.com", "pii")
    first, second = [e.text for e in clinc.test if e.label == intents[2]][:2]
    watched.submit(desk, f"{first} [review] approve", "review")
    watched.submit(desk, f"{second} [review] reject", "review")
    for example in [e for e in clinc.test if e.label == "oos"][:2]:
        watched.submit(desk, example.text, "reject")
    watched.submit(watched.backlog, clinc.test[0].text, "held")
    assert watched.post(None, desk.api_key).status_code == 400
    assert watched.post("x", "not-a-key").status_code == 401
    produce_raw(watched.pipeline.connection.kafka_bootstrap, watched.topics["received"], [(b"poison", b"not avro")])
    httpx.get(f"{watched.pipeline.url('audit')}/v1/audit/events/{watched.sent[0].event_id}", timeout=10)  # 401

    reviewed = watched.ids("review")
    decided = watched.ids("auto", "pii", "reject") | reviewed
    decisions = watched.values("decisions", lambda found: decided <= {r["event_id"] for r in found})
    acting = {d["event_id"] for d in decisions if d["actions"]}
    watched.values("executed", lambda found: acting <= {r["event_id"] for r in found})
    watched.values("review_requested", lambda found: watched.ids("held") <= {r["event_id"] for r in found})


def _wait_scraped(watched: Watched) -> None:
    names = {name for query in panel_queries() for name in query.metrics()}

    def missing() -> set[str]:
        return {name for name in names if not watched.query(f"count({name})")["data"]["result"]}

    wait_for(lambda: not missing(), 120, "every series the dashboards read, scraped", lambda: str(missing()))
    time.sleep(6)  # one more scrape of every target: the first wave's last increments are in
