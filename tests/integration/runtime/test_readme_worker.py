"""The README's example worker ("Writing a service"), run as its own process on private topics."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

from aios.bench.events import received_value
from aios.kafka import topics as catalogue
from aios.kafka.serde import Codecs
from aios.paths import project_root
from aios.settings import ConnectionSettings
from tests.integration.conftest import TopicFactory
from tests.support.kafka_io import at_least, produce_raw, read_topic, value_of
from tests.support.services import stack_env


def readme_worker() -> str:
    """The first Python block of the README's "Writing a service" section."""
    readme = (project_root() / "README.md").read_text()
    section = readme[readme.index("## Writing a service") :]
    block = section[section.index("```python\n") + len("```python\n") :]
    return block[: block.index("```\n")]


def test_the_example_is_a_complete_worker_in_under_30_lines() -> None:
    code = [line for line in readme_worker().splitlines() if line.strip()]
    assert len(code) < 30, len(code)


def test_the_example_worker_labels_events_on_private_topics(
    topics: TopicFactory, connection: ConnectionSettings, tmp_path: Path
) -> None:
    source = topics(catalogue.EVENTS_RECEIVED.name, partitions=1)
    sink = topics(catalogue.EVENTS_CLASSIFIED.name, partitions=1)
    deadletter = topics(catalogue.DEADLETTER.name, partitions=1)
    codecs = Codecs(
        connection.schema_registry_url,
        carries={source: catalogue.EVENTS_RECEIVED.name, sink: catalogue.EVENTS_CLASSIFIED.name},
    )
    refund, other = received_value("I want a Refund now", "t1"), received_value("Where is my card?", "t1")
    produce_raw(
        connection.kafka_bootstrap,
        source,
        [(f"t1:{value['event_id']}".encode(), codecs.encode(source, value)) for value in (refund, other)],
    )
    worker = tmp_path / "keyword_worker.py"
    worker.write_text(readme_worker())
    env = {
        **os.environ,
        **stack_env(connection),
        "AIOS_KEYWORD_INPUT_TOPIC": source,
        "AIOS_KEYWORD_OUTPUT_TOPIC": sink,
        "AIOS_KEYWORD_GROUP_ID": f"test-keyword-{uuid.uuid4().hex[:8]}",
        "AIOS_LOOP_DEADLETTER_TOPIC": deadletter,
    }
    log = tmp_path / "keyword.log"
    process = subprocess.Popen(
        [sys.executable, str(worker)], env=env, cwd=project_root(), stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    try:
        records = read_topic(connection.kafka_bootstrap, sink, at_least(2), timeout_s=90)
    finally:
        process.send_signal(signal.SIGTERM)
        status = process.wait(timeout=60)
    assert len(records) == 2, log.read_text()
    labels = {
        value["event_id"]: value["classification"]["label"]
        for value in (codecs.decode(sink, value_of(record)) for record in records)
    }
    assert labels == {refund["event_id"]: "refund", other["event_id"]: "other"}
    assert {record.key() for record in records} == {f"t1:{v['event_id']}".encode() for v in (refund, other)}
    assert status == 0, log.read_text()
