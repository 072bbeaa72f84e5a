"""`aios model rollout` against a real classify worker: a bad canary is rolled back in its first step, a good
one reaches production (after the rollout process itself was killed and started again); no event is lost
or classified twice meanwhile."""

from __future__ import annotations

import json
import os
import random
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from confluent_kafka import Message

from aios.inference.encoder import SentenceEncoder
from aios.inference.training import Example, RecipeSettings, TrainResult, train
from aios.kafka.serde import Codecs
from aios.settings import ConnectionSettings
from tests.integration.classify.conftest import MODEL, Registry, WorkerFactory
from tests.support.cli import AIOS, aios
from tests.support.database import call_database
from tests.support.events import event
from tests.support.kafka_io import produce_raw, read_topic, value_of
from tests.support.tiny_models import ClincSubset, publish

RECEIVED, CLASSIFIED, COMPLETED, DEADLETTER = (
    "aios.events.received",
    "aios.events.classified",
    "aios.review.completed",
    "aios.deadletter",
)
PLAN = """\
poll_interval: 1s
steps:
  - {name: shadow, shadow: true, share: 0, min_duration: 4s, min_events: 30}
  - {name: canary-50, share: 0.5, min_duration: 2s, min_events: 10}
  - {name: production, share: 1.0, min_duration: 1s, min_events: 5}
criteria: {min_sample: 20, min_agreement: 0.7}
"""


class Traffic:
    """Support tickets produced steadily to the worker's input until stopped; remembers what it sent."""

    def __init__(self, connection: ConnectionSettings, codecs: Codecs, topic: str, texts: list[str]) -> None:
        self.sent: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(connection, codecs, topic, texts), daemon=True)
        self._thread.start()

    def _run(self, connection: ConnectionSettings, codecs: Codecs, topic: str, texts: list[str]) -> None:
        position = 0
        while not self._stop.is_set():
            batch = [event(texts[(position + i) % len(texts)]) for i in range(5)]
            position += 5
            produce_raw(
                connection.kafka_bootstrap, topic, [(e["event_id"].encode(), codecs.encode(topic, e)) for e in batch]
            )
            self.sent += [e["event_id"] for e in batch]
            time.sleep(0.1)

    def stop(self) -> list[str]:
        self._stop.set()
        self._thread.join(timeout=30)
        return self.sent


@pytest.fixture
def private(topics: Callable[..., str], connection: ConnectionSettings) -> tuple[list[str], Codecs]:
    names = [topics(RECEIVED, partitions=3), topics(CLASSIFIED, partitions=3), topics(COMPLETED), topics(DEADLETTER)]
    return names, Codecs(
        connection.schema_registry_url,
        carries=dict(zip(names, (RECEIVED, CLASSIFIED, COMPLETED, DEADLETTER), strict=True)),
    )


@pytest.fixture
def traffic(
    connection: ConnectionSettings, private: tuple[list[str], Codecs], clinc_small: ClincSubset
) -> Iterator[Callable[[], Traffic]]:
    started: list[Traffic] = []
    texts = [e.text for e in clinc_small.train + clinc_small.test]

    def start() -> Traffic:
        started.append(Traffic(connection, private[1], private[0][0], texts))
        return started[-1]

    yield start
    for running in started:
        running.stop()


def shuffled_model(subset: ClincSubset) -> TrainResult:
    """Trained on the right texts with the labels shuffled: confident and wrong."""
    labels = [e.label for e in subset.train]
    random.Random(7).shuffle(labels)
    examples = [Example(e.text, label) for e, label in zip(subset.train, labels, strict=True)]
    return train(examples, subset.val, RecipeSettings(finetune=False, frozen_epochs=10), encoder=SentenceEncoder.load())


def test_a_bad_canary_is_rolled_back_in_its_first_step_and_a_good_one_reaches_production(
    connection: ConnectionSettings,
    private: tuple[list[str], Codecs],
    registry: Registry,
    clinc_small: ClincSubset,
    classify_worker: WorkerFactory,
    traffic: Callable[[], Traffic],
    group_id: str,
    tmp_path: Path,
) -> None:
    (received, classified, completed, deadletter), codecs = private
    bad = publish(registry.dsn, registry.store, MODEL, shuffled_model(clinc_small), None)
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN)
    env = {
        "AIOS_KAFKA_BOOTSTRAP": connection.kafka_bootstrap,
        "AIOS_SCHEMA_REGISTRY_URL": connection.schema_registry_url,
        "AIOS_POSTGRES_DSN": registry.dsn,
        "AIOS_ROLLOUT_CLASSIFIED_TOPIC": classified,
        "AIOS_ROLLOUT_COMPLETED_TOPIC": completed,
        "AIOS_ROLLOUT_PROMETHEUS_URL": "",  # the stack's Prometheus does not scrape this worker
    }
    worker = classify_worker(received, classified, deadletter, group_id)
    flow = traffic()

    rolled_back = aios("model", "rollout", MODEL, str(bad.version), "--plan", str(plan), "--json", env=env)
    assert rolled_back.returncode == 3, rolled_back.stderr + worker.log()[-3000:]
    outcome = json.loads(rolled_back.stdout)
    assert (outcome["state"], outcome["step_name"]) == ("rolled_back", "shadow")
    assert "agreement" in outcome["reason"]
    assert _aliases(registry) == {"production": 1}, "the previous aliases are restored"
    audit = call_database(
        registry.dsn, lambda pool: pool.fetch("SELECT record_type, record FROM audit_log WHERE topic = 'aios.rollouts'")
    )
    assert [row["record_type"] for row in audit] == ["rollout.rolled_back"]
    assert "agreement" in json.loads(audit[0]["record"])["reason"]

    # The good version's rollout process dies during its shadow step; started again, it resumes there.
    command = [*AIOS, "model", "rollout", MODEL, "2", "--plan", str(plan)]
    first = subprocess.Popen(command, env={**os.environ, **env}, stderr=subprocess.PIPE, stdout=subprocess.PIPE)
    _wait_for(lambda: _aliases(registry).get("shadow") == 2, first)
    first.kill()
    first.wait(timeout=30)
    promoted = aios("model", "rollout", MODEL, "2", "--plan", str(plan), env=env)
    assert promoted.returncode == 0, promoted.stderr + worker.log()[-3000:]
    assert "resuming rollout" in promoted.stderr
    assert _aliases(registry) == {"production": 2}
    timeline = tmp_path / "rollout-timeline.svg"
    status = json.loads(aios("model", "rollout", "status", "--json", "--plot", str(timeline), env=env).stdout)
    drawn = timeline.read_text()
    assert "rolled back" in drawn and "promoted" in drawn and f"intents:{bad.version}" in drawn
    assert [(s["version"], s["state"]) for s in status] == [("2", "promoted"), (str(bad.version), "rolled_back")]
    steps = [h["step"] for h in status[0]["history"] if h["what"] == "step"]
    assert steps[-3:] == [0, 1, 2] and steps.count(0) == 2, "the shadow step was applied again on resuming"

    sent = flow.stop()
    counts: Counter[str] = Counter()

    def every_event_once(messages: list[Message]) -> bool:
        counts.clear()
        counts.update(codecs.decode(classified, value_of(m))["event_id"] for m in messages)
        return set(sent) <= set(counts)

    read_topic(connection.kafka_bootstrap, classified, every_event_once, timeout_s=120)
    assert set(sent) <= set(counts), f"{len(set(sent) - set(counts))} events never classified"
    assert max(counts.values()) == 1, "no event classified twice"


def _aliases(registry: Registry) -> dict[str, int]:
    return {row.alias: row.version for row in registry.call("aliases", MODEL) if row.tenant is None}


def _wait_for(condition: Callable[[], bool], process: subprocess.Popen[bytes], timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert process.poll() is None, (process.stderr.read() if process.stderr else b"").decode()
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.3)
