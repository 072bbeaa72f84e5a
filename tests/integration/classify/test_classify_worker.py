"""The classify worker end to end through Kafka: outputs, dead letters, canary, shadow, tenants, promotion."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from confluent_kafka import Message, Producer
from confluent_kafka.admin import AdminClient

from aios.inference.triton_process import start_triton
from aios.kafka.clients import kafka_config
from aios.kafka.serde import Codecs
from aios.settings import ConnectionSettings
from tests.integration.classify.conftest import MODEL, Registry, WorkerFactory
from tests.support.events import event
from tests.support.kafka_io import at_least, produce_raw, read_topic, value_of
from tests.support.tiny_models import ClincSubset

RECEIVED, CLASSIFIED, DEADLETTER = "aios.events.received", "aios.events.classified", "aios.deadletter"


@pytest.fixture
def pipeline(topics: Callable[..., str], connection: ConnectionSettings) -> tuple[str, str, str, Codecs]:
    """Private input, output and dead-letter topics, and codecs for them."""
    names = topics(RECEIVED, partitions=4), topics(CLASSIFIED, partitions=4), topics(DEADLETTER, partitions=1)
    carries = dict(zip(names, (RECEIVED, CLASSIFIED, DEADLETTER), strict=True))
    return (*names, Codecs(connection.schema_registry_url, carries=carries))


def produce_events(connection: ConnectionSettings, codecs: Codecs, topic: str, events: list[dict]) -> None:
    produce_raw(
        connection.kafka_bootstrap,
        topic,
        [(e["event_id"].encode(), codecs.encode(topic, e)) for e in events],
    )


def classified(connection: ConnectionSettings, codecs: Codecs, topic: str, count: int) -> list[dict]:
    messages = read_topic(connection.kafka_bootstrap, topic, at_least(count), timeout_s=180)
    return [codecs.decode(topic, value_of(m)) for m in messages]


@pytest.mark.parametrize("backend", ["torch", "triton"])
def test_every_event_is_classified_by_the_production_model(
    backend: str,
    connection: ConnectionSettings,
    pipeline: tuple[str, str, str, Codecs],
    registry: Registry,
    clinc_small: ClincSubset,
    classify_worker: WorkerFactory,
    group_id: str,
    tmp_path: Path,
) -> None:
    """Both backends give the labels the model gives in process, with the same confidences."""
    received, out, dead, codecs = pipeline
    texts = [example.text for example in clinc_small.test]
    events = [event(text) for text in texts]
    produce_events(connection, codecs, received, events)
    env = {}
    if backend == "triton":
        triton = start_triton(registry.dsn, registry.store.root_dir, tmp_path, max_batch_size=16)
        env = {"AIOS_CLASSIFY_BACKEND": "triton", "AIOS_CLASSIFY_TRITON_URL": triton.url}
    try:
        classify_worker(received, out, dead, group_id, **env)
        records = classified(connection, codecs, out, len(events))
    finally:
        if backend == "triton":
            triton.stop()
    by_id = {r["event_id"]: r for r in records}
    assert len(records) == len(events) and set(by_id) == {e["event_id"] for e in events}
    expected = registry.load(1).predict(texts, k=3)
    for sent, prediction in zip(events, expected, strict=True):
        got = by_id[sent["event_id"]]
        c = got["classification"]
        assert (c["label"], c["oos"]) == (prediction.label, prediction.oos)
        assert c["confidence"] == pytest.approx(prediction.confidence, abs=1e-3)
        assert [t["label"] for t in c["top_k"]] == [label for label, _ in prediction.top_k]
        assert (c["model_name"], c["model_version"], c["model_alias"], c["backend"]) == (
            MODEL,
            1,
            "production",
            backend,
        )
        assert c["inference_ms"] > 0
        assert got["shadow"] is None
        assert got["text"] == sent["text"] and got["tenant_id"] == sent["tenant_id"]
        assert got["trace"]["traceparent"].split("-")[1] == sent["trace"]["traceparent"].split("-")[1]
    assert {r["classification"]["oos"] for r in records} == {True, False}, "the sample holds both kinds"


def test_an_undecodable_record_is_dead_lettered_and_the_rest_classified(
    connection: ConnectionSettings,
    pipeline: tuple[str, str, str, Codecs],
    registry: Registry,
    classify_worker: WorkerFactory,
    group_id: str,
) -> None:
    received, out, dead, codecs = pipeline
    good = [event("how do I reset my pin"), event("what is my balance")]
    produce_raw(connection.kafka_bootstrap, received, [(b"bad", b"\x00\x00\x00\x00\x07not avro at all")])
    produce_events(connection, codecs, received, good)
    classify_worker(received, out, dead, group_id)

    assert {r["event_id"] for r in classified(connection, codecs, out, 2)} == {e["event_id"] for e in good}
    letters = [codecs.decode(dead, value_of(m)) for m in read_topic(connection.kafka_bootstrap, dead, at_least(1))]
    assert len(letters) == 1
    assert letters[0]["error_kind"] == "undecodable" and letters[0]["service"] == "classify"
    assert letters[0]["original_topic"] == received


def test_canary_share_shadow_and_tenant_models(
    connection: ConnectionSettings,
    pipeline: tuple[str, str, str, Codecs],
    registry: Registry,
    classify_worker: WorkerFactory,
    group_id: str,
) -> None:
    received, out, dead, codecs = pipeline
    registry.call("promote", MODEL, 2, "canary", share=0.2)
    registry.call("promote", MODEL, 2, "shadow")
    tenant_a, tenant_b_id = (f"tenant-{uuid.uuid4().hex[:8]}" for _ in range(2))
    registry.call("promote", MODEL, 2, "production", tenant=tenant_b_id)
    events = [event(f"please move {n} dollars to savings", tenant=tenant_a) for n in range(2000)]
    tenant_b = [event("what is my balance", tenant=tenant_b_id) for _ in range(20)]
    produce_events(connection, codecs, received, events + tenant_b)
    classify_worker(received, out, dead, group_id, AIOS_LOOP_MAX_BATCH="256")

    records = classified(connection, codecs, out, len(events) + len(tenant_b))
    for_a = [r for r in records if r["tenant_id"] == tenant_a]
    aliases = Counter((r["classification"]["model_alias"], r["classification"]["model_version"]) for r in for_a)
    assert set(aliases) == {("production", 1), ("canary", 2)}
    assert aliases[("canary", 2)] / len(for_a) == pytest.approx(0.2, abs=0.05)
    assert all(r["shadow"]["model_version"] == 2 and r["shadow"]["model_alias"] == "shadow" for r in for_a)
    for_b = [r for r in records if r["tenant_id"] == tenant_b_id]
    assert len(for_b) == len(tenant_b)
    # Its own production alias; the global canary (same model) still takes its share there.
    assert {r["classification"]["model_version"] for r in for_b} == {2}


def test_two_workers_share_the_load_and_a_promotion_applies_within_10_s_without_loss(
    connection: ConnectionSettings,
    pipeline: tuple[str, str, str, Codecs],
    registry: Registry,
    classify_worker: WorkerFactory,
    group_id: str,
) -> None:
    received, out, dead, codecs = pipeline
    workers = [classify_worker(received, out, dead, group_id) for _ in range(2)]
    wait_for_members(connection, group_id, 2)

    sent: list[str] = []
    stop = threading.Event()

    def keep_producing() -> None:
        producer = Producer({**kafka_config(connection.kafka_bootstrap), "acks": "all"})
        while not stop.is_set():
            batch = [event(f"transfer {n} to my checking account") for n in range(20)]
            for e in batch:
                producer.produce(received, key=e["event_id"].encode(), value=codecs.encode(received, e))
            producer.flush(30)
            sent.extend(e["event_id"] for e in batch)
            time.sleep(0.05)

    producing = threading.Thread(target=keep_producing)
    producing.start()
    time.sleep(8)
    promoted_at = time.time()
    registry.call("promote", MODEL, 2, "production")
    time.sleep(15)
    stop.set()
    producing.join()

    messages = read_topic(connection.kafka_bootstrap, out, at_least(len(sent)), timeout_s=180)
    records = [(m, codecs.decode(out, value_of(m))) for m in messages]
    ids = Counter(r["event_id"] for _, r in records)
    assert set(ids) == set(sent), "every event was classified"
    assert max(ids.values()) == 1, "and none twice"
    late = [r for m, r in records if produced_at(m) > promoted_at + 10]
    assert late and all(r["classification"]["model_version"] == 2 for r in late)
    early = [r for m, r in records if produced_at(m) < promoted_at]
    assert early and all(r["classification"]["model_version"] == 1 for r in early)
    assert all(worker.running() for worker in workers), "no restart"


def produced_at(message: Message) -> float:
    return message.timestamp()[1] / 1000


def wait_for_members(connection: ConnectionSettings, group_id: str, members: int, timeout_s: float = 120) -> None:
    """Until the group has `members` members, each owning at least one partition."""
    admin = AdminClient(kafka_config(connection.kafka_bootstrap))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        description = admin.describe_consumer_groups([group_id])[group_id].result(timeout=10)
        owners = [m for m in description.members if m.assignment.topic_partitions]
        if len(owners) == members:
            return
        time.sleep(1)
    raise AssertionError(f"group {group_id} never had {members} members with partitions")


def test_a_worker_without_a_promoted_model_consumes_nothing(
    connection: ConnectionSettings,
    pipeline: tuple[str, str, str, Codecs],
    classify_worker: WorkerFactory,
    group_id: str,
) -> None:
    received, out, dead, _ = pipeline
    worker = classify_worker(received, out, dead, group_id, AIOS_CLASSIFY_MODEL_NAME="never-promoted")
    time.sleep(5)
    assert worker.running()
    assert read_topic(connection.kafka_bootstrap, out, at_least(1), timeout_s=2) == []
