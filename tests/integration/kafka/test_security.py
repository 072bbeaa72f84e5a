"""The brokers refuse what the principals may not do: anonymous clients, forged decisions, teams that write."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer

from aios.kafka.acls import load_grants
from aios.kafka.clients import access, kafka_config
from aios.kafka.topics import load_catalogue
from aios.settings import ConnectionSettings
from tests.support.cli import aios
from tests.support.kafka_io import at_least, produce_raw, read_topic

AIOS_TOPICS = [spec.name for spec in load_catalogue().topics]
DECISIONS = "aios.decisions"


@pytest.fixture(autouse=True)
def secure(connection: ConnectionSettings) -> None:
    if not access(connection).secure:
        pytest.skip("the stack runs with security off (AIOS_STACK_SECURITY=false)")


def produce_errors(config: dict[str, Any], topics: list[str], timeout_ms: int = 15_000) -> dict[str, int | None]:
    """Per topic, the error code of delivering one record as `config`'s principal (None: acknowledged).

    The client's own errors (a refused sign-in) are returned under the key "client".
    """
    reports: dict[str, int | None] = {}
    client_errors: list[KafkaError] = []
    producer = Producer(
        {
            **config,
            "enable.idempotence": False,
            "message.timeout.ms": timeout_ms,
            "log_level": 0,
            "error_cb": client_errors.append,
        }
    )

    def report(error: KafkaError | None, message: Message) -> None:
        reports[message.topic() or ""] = error.code() if error is not None else None

    for topic in topics:
        producer.produce(topic, value=b"forged", on_delivery=report)
    producer.flush(timeout_ms / 1000 + 15)
    assert set(reports) == set(topics), "a delivery report is missing"
    if client_errors:
        reports["client"] = client_errors[0].code()
    return reports


def produce_error(config: dict[str, Any], topic: str) -> int | None:
    return produce_errors(config, [topic])[topic]


def consume_error(config: dict[str, Any], topic: str, group: str) -> int | None:
    """The first error reading `topic` in `group` reports, None when it read without one."""
    consumer = Consumer({**config, "group.id": group, "auto.offset.reset": "earliest", "log_level": 0})
    consumer.subscribe([topic])
    try:
        for _ in range(20):
            message = consumer.poll(1.0)
            if message is not None:
                error = message.error()
                return error.code() if error is not None else None
        return None
    finally:
        consumer.close()


def test_a_client_without_credentials_gets_nothing_from_any_broker(kafka_bootstrap: str) -> None:
    for protocol in ("PLAINTEXT", "SSL"):
        config: dict[str, Any] = {"bootstrap.servers": kafka_bootstrap, "security.protocol": protocol, "log_level": 0}
        if protocol == "SSL":
            config["ssl.ca.location"] = str(access().ca_location)
        consumer = Consumer({**config, "group.id": "anonymous", "socket.timeout.ms": 3000})
        try:
            with pytest.raises(KafkaException):
                consumer.list_topics(timeout=5)
        finally:
            consumer.close()
        reports = produce_errors(config, AIOS_TOPICS, timeout_ms=5000)
        assert all(reports[topic] is not None for topic in AIOS_TOPICS), (protocol, reports)


def test_a_wrong_password_is_refused_on_every_aios_topic(kafka_bootstrap: str) -> None:
    config = {**kafka_config(kafka_bootstrap), "sasl.username": "admin", "sasl.password": "not-the-password"}
    reports = produce_errors(config, AIOS_TOPICS, timeout_ms=5000)
    assert all(reports[topic] is not None for topic in AIOS_TOPICS), reports
    assert reports["client"] == KafkaError._AUTHENTICATION


def test_only_decide_may_write_a_decision(kafka_bootstrap: str) -> None:
    others = [grant.name for grant in load_grants() if grant.name != "decide"]
    assert others
    for principal in others:
        refused = produce_error(kafka_config(kafka_bootstrap, principal=principal), DECISIONS)
        assert refused == KafkaError.TOPIC_AUTHORIZATION_FAILED, principal


def test_services_read_only_what_they_are_granted(kafka_bootstrap: str) -> None:
    """act reads decisions, nothing upstream of them; audit reads everything."""
    act = kafka_config(kafka_bootstrap, principal="act")
    assert consume_error(act, "aios.events.received", "act") == KafkaError.TOPIC_AUTHORIZATION_FAILED
    assert consume_error(act, DECISIONS, f"not-acts-{uuid.uuid4().hex[:6]}") == KafkaError.GROUP_AUTHORIZATION_FAILED
    assert produce_error(kafka_config(kafka_bootstrap, principal="audit"), "aios.deadletter") is not None


@pytest.fixture
def team(topics: Callable[..., str]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """A subscribing team made by `aios consumers add … --json` on a fresh topic; removed afterwards."""
    topic = topics("aios.events.classified")
    name = f"team-{uuid.uuid4().hex[:8]}"
    added = aios("consumers", "add", name, "--topics", topic, "--json")
    assert added.returncode == 0, added.stderr
    try:
        yield name, topic, json.loads(added.stdout)
    finally:
        removed = aios("consumers", "remove", name)
        assert removed.returncode == 0, removed.stderr


def test_a_team_reads_its_topic_and_nothing_else_and_writes_nowhere(
    team: tuple[str, str, dict[str, Any]], kafka_bootstrap: str
) -> None:
    name, topic, settings = team
    produce_raw(kafka_bootstrap, topic, [(b"k", b"written by the pipeline")])
    own = settings["consumer"]
    records = read_topic(kafka_bootstrap, topic, at_least(1), config=own)
    assert [m.value() for m in records] == [b"written by the pipeline"]

    assert produce_error(own, topic) == KafkaError.TOPIC_AUTHORIZATION_FAILED
    assert produce_error(own, DECISIONS) == KafkaError.TOPIC_AUTHORIZATION_FAILED
    assert consume_error(own, DECISIONS, name) == KafkaError.TOPIC_AUTHORIZATION_FAILED
    assert consume_error(own, topic, "someone-elses-group") == KafkaError.GROUP_AUTHORIZATION_FAILED
    listed = aios("consumers", "list")
    assert name in listed.stdout and topic in listed.stdout


def test_a_removed_team_can_no_longer_sign_in(topics: Callable[..., str], kafka_bootstrap: str) -> None:
    topic = topics("aios.events.classified")
    name = f"team-{uuid.uuid4().hex[:8]}"
    added = aios("consumers", "add", name, "--topics", topic, "--json")
    assert added.returncode == 0, added.stderr
    assert aios("consumers", "remove", name).returncode == 0
    reports = produce_errors(json.loads(added.stdout)["consumer"], [topic], timeout_ms=5000)
    assert reports[topic] is not None and reports["client"] == KafkaError._AUTHENTICATION
