"""The whole pipeline as real processes on private topics, scraped by a private Prometheus, traced to a collector.

Started once per module: ingest (two workers), classify (a production and a canary version),
retrieve-generate, decide, act, audit and the lag exporter, each with its /metrics, all exporting
spans over OTLP to `OtlpCollector`. A Prometheus of the real binary loads `infra/prometheus/`
(configuration and alert rules) and scrapes exactly these processes, so every series it holds
was emitted by them. Events go in through ingest's HTTP API.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from aios.db.scratch import scratch_database
from aios.inference.registry import LocalArtifactStore
from aios.inference.training import TrainResult
from aios.inference.triton_process import free_ports
from aios.kafka.scratch import ScratchTopics
from aios.paths import project_root
from aios.schemas.serde import Codecs
from aios.settings import ConnectionSettings
from aios.stack.prometheus import PrometheusServer
from aios.stack.settings import StackSettings
from aios.tenants.store import TenantStore
from tests.support.dashboards import panel_queries
from tests.support.database import call_database
from tests.support.decide import DecideProcess, DecideTopics, apply_policy
from tests.support.kafka_io import produce_raw, read_topic
from tests.support.knowledge_base import ingest
from tests.support.otlp import OtlpCollector
from tests.support.services import ServiceProcess, stack_env
from tests.support.tiny_models import ClincSubset, publish

CATALOGUE = {
    "received": "aios.events.received",
    "classified": "aios.events.classified",
    "enriched": "aios.events.enriched",
    "decisions": "aios.decisions",
    "review_requested": "aios.review.requested",
    "review_completed": "aios.review.completed",
    "executed": "aios.actions.executed",
    "deadletter": "aios.deadletter",
}

POLICY = """
tenant: {tenant}
rules:
  - name: asked-for-review
    when:
      text: {{matches: '\\[review\\]'}}
    review:
      reason: the sender asked for a person
      sla: 1h
  - name: out-of-scope
    when: {{oos: true}}
    reject:
      reason: outside what this desk answers
default:
  auto:
    reason: answered
    actions:
      - type: log.record
        params: {{message: "answered {{label}}"}}
"""

ARTICLES = ["account-balance.md", "account-blocked.md", "apr.md"]


@dataclass
class Sent:
    event_id: str
    kind: str
    """auto, review, reject (out of scope) or pii (auto, with an email address in the text)."""


@dataclass
class Pipeline:
    run: str
    connection: ConnectionSettings
    dsn: str
    tenant_id: str
    api_key: str
    topics: dict[str, str]
    codecs: Codecs
    ingest_url: str
    audit_url: str
    prometheus_url: str
    collector: OtlpCollector
    services: dict[str, ServiceProcess]
    decide: DecideProcess
    metrics_ports: dict[str, int]
    review: bool = False
    """Whether the human-review service runs (and its panels must have data)."""
    sent: list[Sent] = field(default_factory=list)
    requests: int = 0
    """HTTP requests made to ingest."""

    def submit(self, text: str, kind: str) -> str:
        response = httpx.post(
            f"{self.ingest_url}/v1/events",
            headers={"Authorization": f"Bearer {self.api_key}"},
            json={"type": "support.ticket", "text": text, "attributes": {"customer": "C-1"}},
            timeout=30,
        )
        self.requests += 1
        assert response.status_code == 202, response.text
        event_id = str(response.json()["event_id"])
        self.sent.append(Sent(event_id, kind))
        return event_id

    def refused(self, body: bytes, key: str) -> int:
        response = httpx.post(
            f"{self.ingest_url}/v1/events",
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
            content=body,
            timeout=30,
        )
        self.requests += 1
        return response.status_code

    def records(self, name: str, until: Callable[[list[dict[str, Any]]], bool], timeout_s: float = 180) -> list:
        """Decoded records of one of the pipeline's topics, read until `until(records)` holds."""
        topic = self.topics[name]
        found: list[dict[str, Any]] = []

        def done(messages: list[Any]) -> bool:
            found[:] = [self.codecs.decode(topic, m.value()) for m in messages if m.value()]
            return until(found)

        read_topic(self.connection.kafka_bootstrap, topic, done, timeout_s=timeout_s)
        assert until(found), f"timed out on {name}: {len(found)} record(s)\n{self.logs()}"
        return found

    def ids(self, *kinds: str) -> set[str]:
        return {s.event_id for s in self.sent if s.kind in kinds}

    def query(self, expr: str) -> dict[str, Any]:
        response = httpx.get(f"{self.prometheus_url}/api/v1/query", params={"query": expr}, timeout=30)
        return dict(response.json())

    def logs(self, chars: int = 3000) -> str:
        tails = [f"--- {name}\n{service.log()[-chars:]}" for name, service in self.services.items()]
        return "\n".join([*tails, f"--- decide\n{self.decide.tail(chars)}"])


def _wait(what: str, check: Callable[[], bool], timeout_s: float, pipeline_logs: Callable[[], str]) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{what} not ready after {timeout_s:.0f} s\n{pipeline_logs()}")


def _metrics_text(port: int) -> str:
    return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text


def _create_tenant(dsn: str, name: str) -> tuple[str, str]:
    issued = call_database(dsn, lambda pool: TenantStore(pool).create_tenant(name))
    return issued.tenant_id, issued.api_key


@pytest.fixture(scope="module")
def pipeline(
    connection: ConnectionSettings,
    tiny_versions: list[TrainResult],
    clinc_small: ClincSubset,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Pipeline]:
    run = uuid.uuid4().hex[:8]
    root = tmp_path_factory.mktemp("pipeline")
    with (
        scratch_database(connection.postgres_dsn.get_secret_value(), "aios_test") as dsn,
        ScratchTopics(connection.kafka_bootstrap, connection.schema_registry_url) as scratch,
    ):
        topics = {name: scratch.make(catalogue, partitions=2) for name, catalogue in CATALOGUE.items()}
        carries = {topics[name]: catalogue for name, catalogue in CATALOGUE.items()}
        tenant_id, api_key = _create_tenant(dsn, f"obs-{run}")
        apply_policy(dsn, tenant_id, POLICY.format(tenant=f"obs-{run}"))
        ingest(dsn, tenant_id, *(project_root() / "data" / "kb" / "demo" / "articles" / a for a in ARTICLES))
        store = LocalArtifactStore(root / "models")
        publish(dsn, store, "intents", tiny_versions[0], "production")
        canary = publish(dsn, store, "intents", tiny_versions[1], None)
        call_database(dsn, lambda pool: _promote_canary(pool, canary.version))

        collector = OtlpCollector()
        names = ["ingest", "classify", "retrieve-generate", "decide", "act", "audit", "lag-exporter"]
        ports = dict(zip(names, free_ports(len(names)), strict=True))
        prometheus = PrometheusServer(
            StackSettings(state_dir=root / "prometheus", prometheus_port=free_ports(1)[0], start_timeout_s=60)
        )
        prometheus.start()
        prometheus.write_targets("services", {f"127.0.0.1:{port}": {"service": name} for name, port in ports.items()})
        common = {
            **stack_env(connection, dsn),
            "AIOS_LOOP_DEADLETTER_TOPIC": topics["deadletter"],
            "AIOS_TRACING_OTLP_ENDPOINT": collector.url,
            "OTEL_BSP_SCHEDULE_DELAY": "200",
            "AIOS_MODEL_DEVICE": "cpu",
            "AIOS_MODEL_ARTIFACT_DIR": str(store.root_dir),
        }
        settings = {
            "ingest": {
                "AIOS_INGEST_PORT": str(ports["ingest"]),
                "AIOS_INGEST_WORKERS": "2",
                "AIOS_INGEST_TOPIC": topics["received"],
            },
            "classify": {
                "AIOS_CLASSIFY_INPUT_TOPIC": topics["received"],
                "AIOS_CLASSIFY_OUTPUT_TOPIC": topics["classified"],
                "AIOS_CLASSIFY_GROUP_ID": f"obs-{run}-classify",
                "AIOS_CLASSIFY_METRICS_PORT": str(ports["classify"]),
                "AIOS_CLASSIFY_POLL_INTERVAL_S": "1",
                "AIOS_CLASSIFY_DRIFT_INTERVAL_S": "1",
                "AIOS_CLASSIFY_DRIFT_MIN_EVENTS": "5",
            },
            "retrieve-generate": {
                "AIOS_RETRIEVE_GENERATE_INPUT_TOPIC": topics["classified"],
                "AIOS_RETRIEVE_GENERATE_OUTPUT_TOPIC": topics["enriched"],
                "AIOS_RETRIEVE_GENERATE_GROUP_ID": f"obs-{run}-retrieve-generate",
                "AIOS_RETRIEVE_GENERATE_METRICS_PORT": str(ports["retrieve-generate"]),
            },
            "act": {
                "AIOS_ACT_INPUT_TOPIC": topics["decisions"],
                "AIOS_ACT_OUTPUT_TOPIC": topics["executed"],
                "AIOS_ACT_GROUP_ID": f"obs-{run}-act",
                "AIOS_ACT_METRICS_PORT": str(ports["act"]),
                "AIOS_ACT_POLL_INTERVAL_S": "0.1",
                "AIOS_ACT_DRAIN_S": "3",
            },
            "audit": {
                "AIOS_AUDIT_TOPICS": json.dumps(list(topics.values())),
                "AIOS_AUDIT_CARRIES": json.dumps(carries),
                "AIOS_AUDIT_GROUP_ID": f"audit-{run}",
                "AIOS_AUDIT_PORT": str(ports["audit"]),
            },
            "lag-exporter": {
                "AIOS_LAG_EXPORTER_PORT": str(ports["lag-exporter"]),
                "AIOS_LAG_EXPORTER_GROUPS": f".*{run}.*",
                "AIOS_LAG_EXPORTER_INTERVAL_S": "2",
            },
        }
        decide = DecideProcess(
            connection,
            DecideTopics(
                topics["enriched"],
                topics["review_completed"],
                topics["decisions"],
                topics["review_requested"],
                topics["deadletter"],
            ),
            dsn,
            root,
        )
        decide.env.update({**common, "AIOS_DECIDE_METRICS_PORT": str(ports["decide"]), "AIOS_DECIDE_PARTITIONS": "2"})
        settings["lag-exporter"]["AIOS_LAG_EXPORTER_GROUPS"] = f".*{run}.*|{decide.app_id}"
        services: dict[str, ServiceProcess] = {}
        pipeline = Pipeline(
            run=run,
            connection=connection,
            dsn=dsn,
            tenant_id=tenant_id,
            api_key=api_key,
            topics=topics,
            codecs=Codecs(connection.schema_registry_url, carries=carries),
            ingest_url=f"http://127.0.0.1:{ports['ingest']}",
            audit_url=f"http://127.0.0.1:{ports['audit']}",
            prometheus_url=prometheus.url,
            collector=collector,
            services=services,
            decide=decide,
            metrics_ports=ports,
        )
        try:
            for name, env in settings.items():
                module = "services." + name.replace("-", "_")
                services[name] = ServiceProcess(module, {**common, **env}, root / f"{name}.log")
            decide.start()
            _wait_ready(pipeline)
            _drive(pipeline, clinc_small)
            yield pipeline
        finally:
            for service in services.values():
                if service.running():
                    service.stop()
            if decide.process is not None:
                decide.stop()
            decide.delete_internal_topics()
            prometheus.stop()
            collector.close()


async def _promote_canary(pool: Any, version: int) -> None:
    from aios.inference.registry import ModelRegistry

    await ModelRegistry(pool).promote("intents", version, "canary", share=0.5)


def _wait_ready(pipeline: Pipeline) -> None:
    ports = pipeline.metrics_ports
    logs = pipeline.logs
    _wait("ingest", lambda: httpx.get(f"{pipeline.ingest_url}/readyz", timeout=5).status_code == 200, 180, logs)
    _wait("audit", lambda: httpx.get(f"{pipeline.audit_url}/readyz", timeout=5).status_code == 200, 180, logs)
    _wait("classify", lambda: "aios_model_alias_revision{" in _metrics_text(ports["classify"]), 240, logs)
    for name in ("retrieve-generate", "decide", "act"):
        _wait(name, lambda name=name: _metrics_text(ports[name]).startswith("#"), 240, logs)  # type: ignore[misc]
    _wait(
        "lag-exporter",
        lambda: "aios_kafka_consumer_group_lag_updated_timestamp_seconds" in _metrics_text(ports["lag-exporter"]),
        60,
        logs,
    )


def _drive(pipeline: Pipeline, clinc: ClincSubset) -> None:
    """Two waves of events of every kind, refused requests and poison records.

    Between the waves Prometheus scrapes every series the dashboards read: a counter first seen
    with its final value has no rate, so the second wave is what gives the panels their rates.
    """
    _wave(pipeline, clinc)
    _wait_scraped(pipeline)
    _wave(pipeline, clinc)


def _wave(pipeline: Pipeline, clinc: ClincSubset) -> None:
    intents = sorted({e.label for e in clinc.test if e.label != "oos"})
    # Two of the eight intents only: a stream unlike the versions' validation predictions (drift).
    for text in [e.text for e in clinc.test if e.label in intents[:2]]:
        pipeline.submit(text, "auto")
    # A text the model was trained on (surely in scope, so drafted, so redacted) with an email address.
    pipeline.submit(f"{clinc.train[0].text}, write to jane.doe@example.com", "pii")
    for example in [e for e in clinc.test if e.label == intents[2]][:2]:
        pipeline.submit(f"{example.text} [review]", "review")
    for example in [e for e in clinc.test if e.label == "oos"][:2]:
        pipeline.submit(example.text, "reject")
    assert pipeline.refused(b'{"type": "support.ticket"}', pipeline.api_key) == 400
    assert pipeline.refused(b'{"type": "support.ticket", "text": "x"}', "not-a-key") == 401
    produce_raw(pipeline.connection.kafka_bootstrap, pipeline.topics["received"], [(b"poison", b"not avro")])
    httpx.get(f"{pipeline.audit_url}/v1/audit/events/{pipeline.sent[0].event_id}", timeout=10)  # 401: no key

    decided = pipeline.ids("auto", "pii", "reject")
    decisions = pipeline.records("decisions", lambda found: decided <= {r["event_id"] for r in found})
    automated = {d["event_id"] for d in decisions if d["outcome"] == "AUTO"}
    pipeline.records("executed", lambda found: automated <= {r["event_id"] for r in found})
    pipeline.records("review_requested", lambda found: pipeline.ids("review") <= {r["event_id"] for r in found})


def _wait_scraped(pipeline: Pipeline) -> None:
    names = {name for q in panel_queries() if not q.needs_review_service for name in q.metrics()}

    def missing() -> set[str]:
        return {name for name in names if not pipeline.query(f"count({name})")["data"]["result"]}

    _wait("every series the dashboards read, scraped", lambda: not missing(), 120, lambda: str(missing()))
    time.sleep(6)  # one more scrape of every target: the first wave's last increments are in
