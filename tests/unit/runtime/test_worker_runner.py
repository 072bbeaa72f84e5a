"""The worker runner without a broker: what a worker opens is closed after its loop, last opened first."""

from __future__ import annotations

import asyncio

import pytest
from pydantic_settings import SettingsConfigDict

from aios.kafka import topics
from aios.kafka.loop import LoopSettings
from aios.kafka.topics import topic_field
from aios.runtime.worker import OneToOneSettings, ServiceSettings, Worker, WorkerSpec, run_worker


class _Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="AIOS_TEST_RUNNER_", frozen=True)

    metrics_port: int = 0


class _Pipe(OneToOneSettings):
    model_config = SettingsConfigDict(env_prefix="AIOS_TEST_PIPE_", frozen=True)

    group_id: str = "test"
    input_topic: str = topic_field(topics.EVENTS_RECEIVED, "In.")
    output_topic: str = topic_field(topics.EVENTS_CLASSIFIED, "Out.")
    metrics_port: int = 0


class _Loop:
    def __init__(self, events: list[str]) -> None:
        self.events = events

    def run(self) -> None:
        self.events.append("ran")

    def stop(self) -> None:
        self.events.append("stopped")


def test_closers_run_after_the_loop_last_registered_first_and_a_failing_one_stops_none() -> None:
    events: list[str] = []
    opened: list[Worker[_Settings]] = []

    def start(worker: Worker[_Settings]) -> _Loop:
        opened.append(worker)
        assert worker.background.run(asyncio.sleep(0, "on the background loop")) == "on the background loop"
        worker.on_close(lambda: events.append("closed first opened"))
        worker.on_close(lambda: 1 / 0)
        worker.on_close(lambda: events.append("closed last opened"))
        return _Loop(events)

    run_worker(WorkerSpec("test", _Settings(), run=start))

    assert events == ["ran", "closed last opened", "closed first opened"]
    assert opened[0].background.loop.is_closed()


def test_a_failing_start_still_closes_what_it_opened() -> None:
    events: list[str] = []

    def start(worker: Worker[_Settings]) -> _Loop:
        worker.on_close(lambda: events.append("closed"))
        raise RuntimeError("no model")

    with pytest.raises(RuntimeError, match="no model"):
        run_worker(WorkerSpec("test", _Settings(), run=start))
    assert events == ["closed"]


def test_the_worker_batch_settings_win_over_the_loop_defaults_and_codecs_know_renamed_topics() -> None:
    seen: list[Worker[_Pipe]] = []

    def start(worker: Worker[_Pipe]) -> _Loop:
        seen.append(worker)
        return _Loop([])

    settings = _Pipe(input_topic="test.received.1", max_batch=7)
    run_worker(WorkerSpec("test", settings, run=start), loop_settings=LoopSettings(max_batch=500, max_wait_ms=50))

    worker = seen[0]
    assert (worker.loop_settings.max_batch, worker.loop_settings.max_wait_ms) == (7, 50)
    assert settings.input_topics() == ["test.received.1"]
    assert worker.codecs().carries == {
        "test.received.1": topics.EVENTS_RECEIVED.name,
        topics.EVENTS_CLASSIFIED.name: topics.EVENTS_CLASSIFIED.name,
        topics.DEADLETTER.name: topics.DEADLETTER.name,
    }


def test_a_spec_has_either_a_handler_or_a_loop() -> None:
    with pytest.raises(TypeError):
        WorkerSpec("test", _Settings())
    with pytest.raises(TypeError):
        WorkerSpec("test", _Settings(), consume=lambda worker: lambda records: [], run=lambda worker: _Loop([]))
