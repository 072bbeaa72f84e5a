"""`aios tail` on a real topic: values decoded through the registry, printed as JSON lines."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from confluent_kafka import Consumer, TopicPartition
from typer.testing import CliRunner, Result

from aios.cli.main import app
from aios.kafka.clients import kafka_config
from aios.kafka.serde import Codecs
from aios.settings import ConnectionSettings
from tests.support.events import event
from tests.support.kafka_io import produce_raw

runner = CliRunner()


def invoke_tail(connection: ConnectionSettings, *args: str) -> Result:
    env = {
        "AIOS_KAFKA_BOOTSTRAP": connection.kafka_bootstrap,
        "AIOS_SCHEMA_REGISTRY_URL": connection.schema_registry_url,
    }
    return runner.invoke(app, ["tail", *args], env=env)


def tail_json(connection: ConnectionSettings, *args: str) -> list[dict[str, Any]]:
    result = invoke_tail(connection, *args, "--json")
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def committed(bootstrap: str, group: str, topic: str, partitions: int) -> int:
    consumer = Consumer({**kafka_config(bootstrap), "group.id": group})
    try:
        offsets = consumer.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=10)
    finally:
        consumer.close()
    return sum(max(tp.offset, 0) for tp in offsets)


def test_tail_decodes_every_record_as_json(
    topics: Callable[..., str], connection: ConnectionSettings, kafka_bootstrap: str, group_id: str
) -> None:
    topic = topics("aios.events.received", partitions=2)
    codecs = Codecs(connection.schema_registry_url, carries={topic: "aios.events.received"})
    values = [event(f"ticket {n}", attributes={"n": str(n)}) for n in range(5)]
    produce_raw(kafka_bootstrap, topic, [(v["event_id"].encode(), codecs.encode(topic, v)) for v in values])

    records = tail_json(connection, topic, "--from-beginning", "--max-records", "5", "--group", group_id)

    assert len(records) == 5
    by_id = {record["value"]["event_id"]: record for record in records}
    assert set(by_id) == {v["event_id"] for v in values}
    for value in values:
        record = by_id[value["event_id"]]
        assert set(record) == {"topic", "partition", "offset", "key", "headers", "value"}
        assert (record["topic"], record["key"], record["headers"]) == (topic, value["event_id"], [])
        assert record["value"]["text"] == value["text"]
        assert record["value"]["attributes"] == value["attributes"]
        assert record["value"]["occurred_at"] == value["occurred_at"].isoformat()
    assert committed(kafka_bootstrap, group_id, topic, 2) == 5


def test_tail_without_a_group_reads_again_and_commits_nothing(
    topics: Callable[..., str], connection: ConnectionSettings, kafka_bootstrap: str
) -> None:
    topic = topics("aios.events.received", partitions=1)
    codecs = Codecs(connection.schema_registry_url, carries={topic: "aios.events.received"})
    values = [event(f"ticket {n}") for n in range(3)]
    produce_raw(kafka_bootstrap, topic, [(None, codecs.encode(topic, v)) for v in values])

    for _ in range(2):
        records = tail_json(connection, topic, "--from-beginning", "--max-records", "3")
        assert [r["value"]["event_id"] for r in records] == [v["event_id"] for v in values]
        assert [r["offset"] for r in records] == [0, 1, 2]


def test_tail_prints_compact_lines_and_shows_undecodable_values(
    topics: Callable[..., str], connection: ConnectionSettings, kafka_bootstrap: str
) -> None:
    topic = topics("aios.events.received", partitions=1)
    value = event("hello")
    good = Codecs(connection.schema_registry_url, carries={topic: "aios.events.received"}).encode(topic, value)
    produce_raw(kafka_bootstrap, topic, [(b"k1", good), (b"k2", b"not avro")])
    env = {
        "AIOS_KAFKA_BOOTSTRAP": connection.kafka_bootstrap,
        "AIOS_SCHEMA_REGISTRY_URL": connection.schema_registry_url,
    }

    result = runner.invoke(app, ["tail", topic, "--from-beginning", "--max-records", "2"], env=env)

    assert result.exit_code == 0, result.output
    first, second = result.stdout.splitlines()
    assert first.startswith(f"{topic}[0]@0 key=k1 {{") and f'"event_id":"{value["event_id"]}"' in first
    assert second.startswith(f"{topic}[0]@1 key=k2 ")
    records = tail_json(connection, topic, "--from-beginning", "--max-records", "2")
    assert records[1]["value"] == "bm90IGF2cm8=" and records[1]["error"]


def test_tail_reports_a_record_fastavro_cannot_read_and_goes_on(
    topics: Callable[..., str], connection: ConnectionSettings, kafka_bootstrap: str
) -> None:
    """A timestamp past year 9999 in UTC is valid Avro that fastavro raises on (OverflowError)."""
    topic = topics("aios.events.received", partitions=1)
    codecs = Codecs(connection.schema_registry_url, carries={topic: "aios.events.received"})
    late = event("late", occurred_at=datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5))))
    good = event("after it")
    produce_raw(kafka_bootstrap, topic, [(b"k1", codecs.encode(topic, late)), (b"k2", codecs.encode(topic, good))])

    records = tail_json(connection, topic, "--from-beginning", "--max-records", "2")

    assert (records[0]["topic"], records[0]["partition"], records[0]["offset"]) == (topic, 0, 0)
    assert "undecodable" in records[0]["error"]
    assert records[1]["value"]["event_id"] == good["event_id"]


def test_tail_refuses_a_topic_without_a_schema(connection: ConnectionSettings) -> None:
    env = {
        "AIOS_KAFKA_BOOTSTRAP": connection.kafka_bootstrap,
        "AIOS_SCHEMA_REGISTRY_URL": connection.schema_registry_url,
    }
    result = runner.invoke(app, ["tail", "no.such.topic.anywhere"], env=env)
    assert result.exit_code == 1
    assert "no value schema registered for no.such.topic.anywhere" in str(result.exception)
