"""The shared consumer loop against the real broker: dead letters, crashes and graceful stops."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest
from confluent_kafka import Consumer, Message, TopicPartition

from aios.kafka.clients import kafka_config
from aios.kafka.serde import Codecs
from aios.settings import ConnectionSettings
from tests.integration.conftest import TopicFactory
from tests.support.copy_worker import EVENTS, build_loop
from tests.support.events import event
from tests.support.kafka_io import at_least, produce_raw, read_topic, value_of


@pytest.fixture
def pipeline(topics: TopicFactory, group_id: str) -> tuple[str, str, str, str]:
    return topics(EVENTS), topics(EVENTS), topics("aios.deadletter", partitions=1), group_id


def encoded_events(codecs: Codecs, topic: str, values: list[dict]) -> list[tuple[bytes, bytes]]:
    return [(v["event_id"].encode(), codecs.encode(topic, v)) for v in values]


def run_copy_worker(
    source: str, sink: str, deadletter: str, group: str, connection: ConnectionSettings, outputs: int, dead: int
) -> tuple[list[Message], list[Message]]:
    """Run the copy worker in a thread until `outputs` records reached the sink and `dead` the dead-letter topic."""
    loop = build_loop(source, sink, deadletter, group, connection)
    worker = threading.Thread(target=loop.run)
    worker.start()
    try:
        return (
            read_topic(connection.kafka_bootstrap, sink, at_least(outputs)),
            read_topic(connection.kafka_bootstrap, deadletter, at_least(dead)),
        )
    finally:
        loop.stop()
        worker.join(timeout=30)


@pytest.mark.parametrize(
    "poison",
    [
        pytest.param(b"\x00\x7f\xff\xff\xf0" + b"\x02", id="unknown-schema-id"),
        pytest.param(b"\x00\x00\x00\x00\x07" + b"not avro at all", id="another-schema-id-garbled-body"),
        pytest.param(b"\x00", id="truncated-header"),
        pytest.param(b"", id="empty"),
    ],
)
def test_every_kind_of_undecodable_record_is_dead_lettered_not_fatal(
    poison: bytes, topics: TopicFactory, group_id: str, connection: ConnectionSettings
) -> None:
    source, sink, deadletter = topics(EVENTS, partitions=1), topics(EVENTS), topics("aios.deadletter", 1)
    codecs = Codecs(connection.schema_registry_url, {source: EVENTS, sink: EVENTS, deadletter: "aios.deadletter"})
    good = event("after the poison")
    produce_raw(connection.kafka_bootstrap, source, [(b"poison", poison), *encoded_events(codecs, source, [good])])

    outputs, dead = run_copy_worker(source, sink, deadletter, group_id, connection, 1, 1)
    assert [codecs.decode(sink, value_of(m))["event_id"] for m in outputs] == [good["event_id"]]
    letter = codecs.decode(deadletter, value_of(dead[0]))
    assert letter["error_kind"] == "undecodable" and (letter["original_value"] or b"") == poison


def test_poison_records_are_dead_lettered_and_the_rest_processed(
    topics: TopicFactory, group_id: str, connection: ConnectionSettings
) -> None:
    source, sink, deadletter = topics(EVENTS, partitions=1), topics(EVENTS), topics("aios.deadletter", 1)
    codecs = Codecs(connection.schema_registry_url, {source: EVENTS, sink: EVENTS, deadletter: "aios.deadletter"})
    good = [event(f"good {n}") for n in range(3)]
    exploding = event("explode")
    records = [
        *encoded_events(codecs, source, good[:1]),
        (b"poison", b"not an avro record"),
        *encoded_events(codecs, source, good[1:2]),
        *encoded_events(codecs, source, [exploding]),
        *encoded_events(codecs, source, good[2:]),
    ]
    produce_raw(connection.kafka_bootstrap, source, records)

    outputs, dead = run_copy_worker(source, sink, deadletter, group_id, connection, 3, 2)

    assert sorted(codecs.decode(sink, value_of(m))["event_id"] for m in outputs) == sorted(e["event_id"] for e in good)
    by_kind = {v["error_kind"]: v for v in (codecs.decode(deadletter, value_of(m)) for m in dead)}
    undecodable, failed = by_kind["undecodable"], by_kind["handler-failed"]
    assert undecodable["original_value"] == b"not an avro record"
    assert (undecodable["original_topic"], undecodable["original_partition"], undecodable["original_offset"]) == (
        source,
        0,
        1,
    )
    assert undecodable["service"] == "copy-worker"
    assert "magic byte" in undecodable["reason"].lower() or "unknown" in undecodable["reason"].lower()
    assert failed["event_id"] == exploding["event_id"]
    assert failed["original_offset"] == 3
    assert "cannot handle event" in failed["reason"]
    assert failed["attempts"] >= 3
    assert failed["original_value"] == records[3][1]

    # The trace travels: outputs carry a traceparent header of the input's trace.
    trace_id = good[0]["trace"]["traceparent"].split("-")[1]
    headers = dict(outputs[0].headers() or [])
    traceparent = headers["traceparent"]
    assert isinstance(traceparent, bytes) and traceparent.decode().split("-")[1] == trace_id
    assert committed(connection, group_id, source, 1) == [5]


def committed(connection: ConnectionSettings, group: str, topic: str, partitions: int) -> list[int]:
    consumer = Consumer({**kafka_config(connection.kafka_bootstrap), "group.id": group})
    try:
        parts = consumer.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=10)
        return [p.offset for p in parts]
    finally:
        consumer.close()


def high_watermarks(connection: ConnectionSettings, topic: str, partitions: int) -> list[int]:
    consumer = Consumer({**kafka_config(connection.kafka_bootstrap), "group.id": "watermarks"})
    try:
        return [consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in range(partitions)]
    finally:
        consumer.close()


class WorkerProcess:
    """The copy worker as a real OS process, so tests can SIGKILL and SIGTERM it."""

    def __init__(self, connection: ConnectionSettings, args: list[str]) -> None:
        self.env = {
            **os.environ,
            "AIOS_KAFKA_BOOTSTRAP": connection.kafka_bootstrap,
            "AIOS_SCHEMA_REGISTRY_URL": connection.schema_registry_url,
        }
        self.args = args
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.copy_worker", *self.args], env=self.env, stderr=subprocess.DEVNULL
        )

    def signal(self, sig: signal.Signals) -> int:
        assert self.process is not None
        self.process.send_signal(sig)
        return self.process.wait(timeout=60)

    def stop_if_running(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def workers() -> Iterator[list[WorkerProcess]]:
    started: list[WorkerProcess] = []
    yield started
    for worker in started:
        worker.stop_if_running()


def unique_ids(codecs: Codecs, topic: str, messages: list) -> set[str]:
    return {codecs.decode(topic, value_of(m))["event_id"] for m in messages}


@pytest.mark.chaos
def test_kill_9_mid_stream_then_restart_loses_nothing(
    pipeline: tuple[str, str, str, str], connection: ConnectionSettings, workers: list[WorkerProcess]
) -> None:
    source, sink, deadletter, group = pipeline
    codecs = Codecs(connection.schema_registry_url, {source: EVENTS, sink: EVENTS})
    values = [event(f"event {n}") for n in range(10_000)]
    produce_raw(connection.kafka_bootstrap, source, encoded_events(codecs, source, values))

    worker = WorkerProcess(connection, [source, sink, deadletter, group, "--delay-ms", "150"])
    workers.append(worker)
    worker.start()
    before_kill = read_topic(connection.kafka_bootstrap, sink, at_least(2_000), timeout_s=120)
    assert worker.signal(signal.SIGKILL) == -signal.SIGKILL
    partial = read_topic(connection.kafka_bootstrap, sink, lambda r: False, timeout_s=3)
    assert 2_000 <= len(partial) < 10_000, "the kill must land mid-stream"
    assert len(before_kill) >= 2_000

    worker.start()
    wanted = {v["event_id"] for v in values}
    outputs = read_topic(
        connection.kafka_bootstrap, sink, lambda r: len(r) >= 10_000 and unique_ids(codecs, sink, r) >= wanted, 180
    )
    assert unique_ids(codecs, sink, outputs) == wanted
    assert worker.signal(signal.SIGTERM) == 0


def test_sigterm_commits_and_a_restart_reprocesses_nothing(
    pipeline: tuple[str, str, str, str], connection: ConnectionSettings, workers: list[WorkerProcess]
) -> None:
    source, sink, deadletter, group = pipeline
    codecs = Codecs(connection.schema_registry_url, {source: EVENTS, sink: EVENTS})
    produce_raw(connection.kafka_bootstrap, source, encoded_events(codecs, source, [event() for _ in range(1_000)]))

    worker = WorkerProcess(connection, [source, sink, deadletter, group])
    workers.append(worker)
    worker.start()
    assert len(read_topic(connection.kafka_bootstrap, sink, at_least(1_000), timeout_s=120)) == 1_000
    assert worker.signal(signal.SIGTERM) == 0
    assert committed(connection, group, source, 3) == high_watermarks(connection, source, 3)

    worker.start()
    time.sleep(8)  # join the group, fetch from the committed offsets, find nothing to do
    assert worker.signal(signal.SIGTERM) == 0
    assert len(read_topic(connection.kafka_bootstrap, sink, lambda r: False, timeout_s=3)) == 1_000
