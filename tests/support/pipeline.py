"""The whole pipeline as real processes, for the fault and bad-input suites (`tests/integration/resilience`).

ingest → classify → retrieve-generate → decide → review / act, audit over every topic and the
outcome notifier over the outcome topics: each `python -m services.<name>` on private topics,
consumer groups and ports, against one migrated database, the Redis and the Kafka cluster it is
given. `kill(name)` is `kill -9`; `start(name)` brings the service back with the same settings.
A service may run as several instances in its consumer group (`instances`): each has a name of its
own (`instance_name`) for `start`, `kill`, `ports` and `running`, and a port and a log of its own.
What the suites count is read from the topics (`TopicTail`), from the HTTP receivers' request logs
and from the database, never from service logs.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from confluent_kafka import OFFSET_BEGINNING, Consumer, Message, TopicPartition
from confluent_kafka.error import SerializationError
from pydantic import SecretStr

from aios.connectors.config import ConnectorConfigs
from aios.db.scratch import scratch_database
from aios.inference.model_registry import LocalArtifactStore
from aios.inference.training import TrainResult
from aios.inference.triton_process import free_ports
from aios.kafka.clients import kafka_config
from aios.kafka.scratch import ScratchTopics
from aios.kafka.serde import Codecs
from aios.paths import project_root
from aios.settings import ConnectionSettings
from aios.tenants.store import TenantStore
from tests.support.database import call_database
from tests.support.decide import DecideProcess, DecideTopics, apply_policy
from tests.support.http_target import HttpTarget
from tests.support.knowledge_base import ingest
from tests.support.review import add_reviewer
from tests.support.services import ServiceProcess, stack_env
from tests.support.tiny_models import publish

PIPELINE_TOPICS = {
    "received": "aios.events.received",
    "classified": "aios.events.classified",
    "enriched": "aios.events.enriched",
    "decisions": "aios.decisions",
    "review_requested": "aios.review.requested",
    "review_completed": "aios.review.completed",
    "executed": "aios.actions.executed",
    "deadletter": "aios.deadletter",
}
"""Short name → the catalogue topic whose schema the pipeline's private copy carries."""

DOCUMENT_TOPICS = {"documents_received": "aios.documents.received", "documents_extracted": "aios.documents.extracted"}
"""The topics a document travels on before it joins `received`: made for every pipeline, read by `EXTRACT` (when
started) and audit."""

MADE_TOPICS = {**PIPELINE_TOPICS, **DOCUMENT_TOPICS}
"""Every private topic of a pipeline."""

SERVICES = ("ingest", "classify", "retrieve-generate", "decide", "review", "act", "audit", "outcomes")
"""In start order: consumers of a topic start before anything writes to it matters (all read from the start)."""

EXTRACT = "extract"
"""Started only by the tests that upload documents (`start(EXTRACT)`): it reads scans, which few tests need."""

INPUTS = {
    "classify": ("received",),
    "retrieve-generate": ("classified",),
    "decide": ("enriched", "review_completed"),
    "review": ("review_requested",),
    "act": ("decisions",),
    "audit": tuple(PIPELINE_TOPICS),
    "outcomes": ("decisions", "executed", "review_requested", "deadletter"),
}
"""The topics each consuming service reads (audit reads every one)."""

ARTICLES = ("account-balance.md", "account-blocked.md", "application-status.md", "apr.md", "bill-balance.md")
"""Demo knowledge-base articles about intents the tiny test model knows."""

REVIEWER_PASSWORD = "chaos-reviewer-password"


def instance_name(service: str, number: int) -> str:
    """The name of a service's instance `number` (from 0): the first is named as the service."""
    return service if number == 0 else f"{service}#{number}"


def service_of(instance: str) -> str:
    return instance.partition("#")[0]


@dataclass(frozen=True)
class Seen:
    partition: int
    offset: int
    value: dict[str, Any] | None
    """The decoded record; None when its bytes do not decode."""
    size: int
    timestamp_ms: int


class TopicTail:
    """Every record of the pipeline's topics from the beginning, read by one consumer thread and decoded.

    It assigns partitions itself (no consumer group, nothing committed), so it never moves a
    service's offsets and keeps reading through broker failures.
    """

    def __init__(self, bootstrap: str, topics: dict[str, str], codecs: Codecs) -> None:
        self.bootstrap = bootstrap
        self.names = {topic: name for name, topic in topics.items()}
        self.codecs = codecs
        self._seen: dict[str, list[Seen]] = {name: [] for name in topics}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="topic-tail", daemon=True)
        self._failure: BaseException | None = None

    def start(self) -> TopicTail:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def seen(self, name: str) -> list[Seen]:
        """What was read so far; raises what stopped the tail, so a dead tail never reads as lost events."""
        if self._failure is not None:
            raise RuntimeError("the topic tail stopped") from self._failure
        with self._lock:
            return list(self._seen[name])

    def values(self, name: str) -> list[dict[str, Any]]:
        return [s.value for s in self.seen(name) if s.value is not None]

    def coordinates(self) -> set[tuple[str, int, int]]:
        """(topic, partition, offset) of every record read so far."""
        topics = {name: topic for topic, name in self.names.items()}
        with self._lock:
            return {(topics[name], s.partition, s.offset) for name, seen in self._seen.items() for s in seen}

    def _run(self) -> None:
        consumer = Consumer(
            {
                **kafka_config(self.bootstrap),
                "group.id": f"tail-{uuid.uuid4().hex[:8]}",
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",  # never skip records, whatever a broker failover says
                "fetch.message.max.bytes": 4 * 1024 * 1024,
            }
        )
        try:
            consumer.assign(
                [
                    TopicPartition(topic, partition, OFFSET_BEGINNING)
                    for topic, partitions in self._partitions(consumer).items()
                    for partition in partitions
                ]
            )
            while not self._stop.is_set():
                for m in consumer.consume(500, 0.2):
                    if m.error() is None:
                        self._add(m)
        except BaseException as exc:
            self._failure = exc
            raise
        finally:
            consumer.close()

    def _partitions(self, consumer: Consumer) -> dict[str, list[int]]:
        """Each topic's partitions, once the broker asked knows every topic (new ones take a moment to spread)."""
        deadline = time.monotonic() + 60
        while True:
            metadata = consumer.list_topics(timeout=30)
            known = {t: list(metadata.topics[t].partitions) for t in self.names if t in metadata.topics}
            if all(known.get(t) for t in self.names) or time.monotonic() > deadline:
                missing = [t for t in self.names if not known.get(t)]
                assert not missing, f"topics unknown to the broker after 60 s: {missing}"
                return known
            time.sleep(0.5)

    def _add(self, message: Message) -> None:
        topic, data = message.topic() or "", message.value() or b""
        try:
            value = self.codecs.decode(topic, data)
        except SerializationError:
            value = None
        seen = Seen(message.partition() or 0, message.offset() or 0, value, len(data), message.timestamp()[1])
        with self._lock:
            self._seen[self.names[topic]].append(seen)


@dataclass(frozen=True)
class Tenant:
    name: str
    tenant_id: str
    api_key: str
    target: HttpTarget
    """The tenant's webhook receiver: the request log every webhook action is counted from."""


@dataclass
class _Running:
    process: ServiceProcess
    log_offset: int
    """Bytes of the (shared, appended) log written by earlier runs of the service."""


@dataclass
class Pipeline:
    """Eight services on private topics; `start()` them, `kill()` and `start()` one again."""

    connection: ConnectionSettings
    """Kafka, the registry, the pipeline's own migrated database and Redis."""
    topics: dict[str, str]
    """Short name (`PIPELINE_TOPICS`) → this pipeline's private topic."""
    root: Path
    model: TrainResult
    replication: int = 1
    instances: dict[str, int] = field(default_factory=dict)
    """Processes of a service in its consumer group (ports and logs of their own); 1 for a service not named."""
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    def __post_init__(self) -> None:
        self.names = [instance_name(s, n) for s in (*SERVICES, EXTRACT) for n in range(self.instances.get(s, 1))]
        """Every instance of every service, each service's first instance first."""
        self.ports = dict(zip(self.names, free_ports(len(self.names)), strict=True))
        self.carries = {self.topics[name]: catalogue for name, catalogue in MADE_TOPICS.items()}
        self.codecs = Codecs(self.connection.schema_registry_url, carries=self.carries)
        self.tail = TopicTail(self.connection.kafka_bootstrap, self.topics, self.codecs)
        self.tenants: dict[str, Tenant] = {}
        self.running: dict[str, _Running] = {}
        self.restarts: dict[str, int] = dict.fromkeys(self.names, 0)
        self.decide = DecideProcess(
            self.connection,
            DecideTopics(
                self.topics["enriched"],
                self.topics["review_completed"],
                self.topics["decisions"],
                self.topics["review_requested"],
                self.topics["deadletter"],
            ),
            self.dsn,
            self.root,
        )
        self.envs = self._envs()

    @property
    def dsn(self) -> str:
        return self.connection.postgres_dsn.get_secret_value()

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    # -- setting up -------------------------------------------------------------------------

    def prepare(self) -> None:
        """Publish the model as `intents` production and start reading the topics."""
        publish(self.dsn, LocalArtifactStore(self.root / "models"), "intents", self.model, "production")
        self.tail.start()

    def add_tenant(self, name: str, policy: str, target: HttpTarget) -> Tenant:
        """A tenant with `policy` (its `{tenant}` replaced), a webhook to `target`, a reviewer and a knowledge base."""
        issued = call_database(self.dsn, lambda pool: TenantStore(pool).create_tenant(name))
        apply_policy(self.dsn, issued.tenant_id, policy.replace("{tenant}", name))
        webhook = {"url": target.url, "secret": target.secret}
        call_database(self.dsn, lambda pool: ConnectorConfigs(pool).set(issued.tenant_id, "webhook", webhook))
        add_reviewer(self.dsn, name, "reviewer", REVIEWER_PASSWORD)
        articles = project_root() / "data" / "kb" / "demo" / "articles"
        ingest(self.dsn, issued.tenant_id, *(articles / article for article in ARTICLES))
        tenant = Tenant(name, issued.tenant_id, issued.api_key, target)
        self.tenants[name] = tenant
        return tenant

    def submit(self, tenant: Tenant, text: str, attributes: dict[str, str] | None = None) -> str:
        """A support ticket through the pipeline's ingest over HTTP; its event id."""
        response = httpx.post(
            f"{self.url('ingest')}/v1/events",
            headers={"Authorization": f"Bearer {tenant.api_key}"},
            json={"type": "support.ticket", "text": text, "attributes": attributes or {}},
            timeout=30,
        )
        assert response.status_code == 202, response.text
        return str(response.json()["event_id"])

    def _envs(self) -> dict[str, dict[str, str]]:
        topics, run, ports = self.topics, self.run, self.ports
        common = {
            **stack_env(self.connection),
            "AIOS_LOOP_DEADLETTER_TOPIC": topics["deadletter"],
            "AIOS_MODEL_DEVICE": "cpu",
            "AIOS_MODEL_ARTIFACT_DIR": str(self.root / "models"),
        }
        decide = {key: value for key, value in self.decide.env.items() if key.startswith("AIOS_DECIDE_")}
        specific = {
            "ingest": {
                "AIOS_INGEST_PORT": str(ports["ingest"]),
                "AIOS_INGEST_WORKERS": "1",
                "AIOS_INGEST_TOPIC": topics["received"],
                "AIOS_INGEST_DOCUMENTS_TOPIC": topics["documents_received"],
            },
            EXTRACT: {
                "AIOS_EXTRACT_INPUT_TOPIC": topics["documents_received"],
                "AIOS_EXTRACT_EXTRACTED_TOPIC": topics["documents_extracted"],
                "AIOS_EXTRACT_EVENTS_TOPIC": topics["received"],
                "AIOS_EXTRACT_GROUP_ID": f"pipeline-{run}-extract",
                "AIOS_EXTRACT_METRICS_PORT": str(ports[EXTRACT]),
            },
            "classify": {
                "AIOS_CLASSIFY_INPUT_TOPIC": topics["received"],
                "AIOS_CLASSIFY_OUTPUT_TOPIC": topics["classified"],
                "AIOS_CLASSIFY_GROUP_ID": f"pipeline-{run}-classify",
                "AIOS_CLASSIFY_METRICS_PORT": str(ports["classify"]),
                "AIOS_CLASSIFY_POLL_INTERVAL_S": "1",
            },
            "retrieve-generate": {
                "AIOS_RETRIEVE_GENERATE_INPUT_TOPIC": topics["classified"],
                "AIOS_RETRIEVE_GENERATE_OUTPUT_TOPIC": topics["enriched"],
                "AIOS_RETRIEVE_GENERATE_GROUP_ID": f"pipeline-{run}-retrieve-generate",
                "AIOS_RETRIEVE_GENERATE_METRICS_PORT": str(ports["retrieve-generate"]),
            },
            "decide": {
                **decide,
                "AIOS_DECIDE_METRICS_PORT": str(ports["decide"]),
                "AIOS_DECIDE_REPLICATION_FACTOR": str(self.replication),
            },
            "review": {
                "AIOS_REVIEW_PORT": str(ports["review"]),
                "AIOS_REVIEW_GROUP_ID": f"pipeline-{run}-review",
                "AIOS_REVIEW_REQUESTED_TOPIC": topics["review_requested"],
                "AIOS_REVIEW_COMPLETED_TOPIC": topics["review_completed"],
                "AIOS_REVIEW_DEADLETTER_TOPIC": topics["deadletter"],
            },
            "act": {
                "AIOS_ACT_INPUT_TOPIC": topics["decisions"],
                "AIOS_ACT_OUTPUT_TOPIC": topics["executed"],
                "AIOS_ACT_GROUP_ID": f"pipeline-{run}-act",
                "AIOS_ACT_METRICS_PORT": str(ports["act"]),
                "AIOS_ACT_POLL_INTERVAL_S": "0.1",
                # A killed instance's claims are run again once their lease ends: keep that short here.
                "AIOS_ACT_LEASE_S": "20",
                "AIOS_ACT_DRAIN_S": "3",
            },
            "audit": {
                "AIOS_AUDIT_TOPICS": json.dumps(list(topics.values())),
                "AIOS_AUDIT_CARRIES": json.dumps(self.carries),
                "AIOS_AUDIT_GROUP_ID": f"pipeline-{run}-audit",
                "AIOS_AUDIT_PORT": str(ports["audit"]),
            },
            "outcomes": {
                "AIOS_OUTCOMES_DECISIONS_TOPIC": topics["decisions"],
                "AIOS_OUTCOMES_EXECUTED_TOPIC": topics["executed"],
                "AIOS_OUTCOMES_REVIEW_REQUESTED_TOPIC": topics["review_requested"],
                "AIOS_OUTCOMES_DEADLETTER_TOPIC": topics["deadletter"],
                "AIOS_OUTCOMES_GROUP_ID": f"pipeline-{run}-outcomes",
                "AIOS_OUTCOMES_METRICS_PORT": str(ports["outcomes"]),
            },
        }
        return {name: {**common, **specific[name]} for name in (*SERVICES, EXTRACT)}

    # -- running ----------------------------------------------------------------------------

    def env(self, name: str) -> dict[str, str]:
        """Instance `name`'s environment: its service's (`envs`), and for a further instance its own port."""
        service = service_of(name)
        if name == service:
            return self.envs[service]
        # What `aios up` gives each of a service's processes: it overrides the service's own port setting.
        return {**self.envs[service], "AIOS_SERVICE_PORT": str(self.ports[name])}

    def start(self, *names: str, timeout_s: float = 240) -> None:
        """Start the named instances (every instance of `SERVICES` when none are named) and wait until each is ready."""
        chosen = names or [name for name in self.names if service_of(name) in SERVICES]
        for name in chosen:
            log = self.root / f"{name}.log"
            offset = log.stat().st_size if log.exists() else 0
            module = "services." + service_of(name).replace("-", "_")
            self.running[name] = _Running(ServiceProcess(module, self.env(name), log), offset)
        for name in chosen:
            self.wait_ready(name, timeout_s)

    def kill(self, name: str) -> None:
        """`kill -9`: no drain, no commit, no goodbye."""
        self.running[name].process.kill()
        self.restarts[name] += 1

    def restart(self, name: str, down_s: float = 0.0) -> None:
        self.kill(name)
        time.sleep(down_s)
        self.start(name)

    def stop(self) -> None:
        """SIGTERM every service still running (all at once: they drain side by side), stop the tail, remove
        decide's internal topics."""
        for running in self.running.values():
            running.process.terminate()
        for running in self.running.values():
            running.process.process.wait(timeout=60)
        self.tail.stop()
        self.decide.delete_internal_topics()

    def pids(self) -> dict[str, int | None]:
        return {
            name: running.process.process.pid if running.process.running() else None
            for name, running in self.running.items()
        }

    def ready(self, name: str) -> bool:
        running, service = self.running[name], service_of(name)
        assert running.process.running(), f"{name} exited:\n{running.process.log()[-4000:]}"
        try:
            if service in ("ingest", "audit", "review"):
                return httpx.get(f"{self.url(name)}/readyz", timeout=5).status_code == 200
            if service == "decide":
                return b"Worker ready" in running.process.log_path.read_bytes()[running.log_offset :]
            metrics = httpx.get(f"{self.url(name)}/metrics", timeout=5).text
        except httpx.HTTPError:
            return False
        return service != "classify" or "aios_model_alias_revision{" in metrics

    def wait_ready(self, name: str, timeout_s: float = 240) -> None:
        wait_for(lambda: self.ready(name), timeout_s, f"{name} ready", self.logs)

    def logs(self, chars: int = 2500) -> str:
        return "\n".join(f"--- {name}\n{r.process.log()[-chars:]}" for name, r in self.running.items())


def wait_for(check: Callable[[], bool], timeout_s: float, what: str, details: Callable[[], str] = str) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not after {timeout_s:.0f} s\n{details()}")
        time.sleep(0.5)


@contextmanager
def running_pipeline(
    connection: ConnectionSettings,
    root: Path,
    model: TrainResult,
    partitions: int = 3,
    replication: int = 1,
    instances: dict[str, int] | None = None,
) -> Iterator[Pipeline]:
    """A prepared pipeline on new private topics of `connection`'s cluster; services started with `start()`."""
    with ScratchTopics(connection.kafka_bootstrap, connection.schema_registry_url, prefix="pipeline") as scratch:
        topics = {name: scratch.make(catalogue, partitions, replication) for name, catalogue in MADE_TOPICS.items()}
        pipeline = Pipeline(connection, topics, root, model, replication, dict(instances or {}))
        pipeline.prepare()
        try:
            yield pipeline
        finally:
            pipeline.stop()


@contextmanager
def private_pipeline(
    connection: ConnectionSettings,
    root: Path,
    model: TrainResult,
    *,
    partitions: int = 3,
    webhook_secret: str,
    instances: dict[str, int] | None = None,
) -> Iterator[tuple[Pipeline, HttpTarget]]:
    """`running_pipeline` on a migrated database of its own, and the webhook receiver its tenants' actions call."""
    target = HttpTarget(secret=webhook_secret).start()
    try:
        with scratch_database(connection.postgres_dsn.get_secret_value(), "aios_test") as dsn:
            private = connection.model_copy(update={"postgres_dsn": SecretStr(dsn)})
            with running_pipeline(private, root, model, partitions, instances=instances) as pipeline:
                yield pipeline, target
    finally:
        target.stop()
