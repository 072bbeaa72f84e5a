"""A worker benchmarked through Kafka: its handler in the real consumer loop on private topics, timed.

Events are produced to a private source topic first; the loop then runs until every one is
consumed. The rate counts from the end of the first batch (the group join is not work) to the
last commit; each batch's handler time is kept for percentiles.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from aios.bench.model_speed import Throughput
from aios.kafka.loop import ConsumerLoop, LoopSettings
from aios.kafka.producer import ReliableProducer
from aios.kafka.records import InputRecord, OutputRecord
from aios.kafka.scratch import ScratchTopics
from aios.kafka.serde import Codecs
from aios.kafka.topics import DEADLETTER
from aios.settings import ConnectionSettings

Handler = Callable[[list[InputRecord]], list[OutputRecord]]


class TimedHandler:
    """A handler, with the wall time of each batch kept for percentiles."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.batch_ms: list[float] = []

    def __call__(self, records: list[InputRecord]) -> list[OutputRecord]:
        started = time.perf_counter()
        outputs = self.handler(records)
        self.batch_ms.append((time.perf_counter() - started) * 1000)
        return outputs


def run_worker(
    connection: ConnectionSettings,
    topics: tuple[str, str],
    values: Sequence[dict[str, Any]],
    make_handler: Callable[[str], Handler],
    service: str,
    *,
    max_batch: int,
    label: str,
) -> Throughput:
    """`values` (records of the catalogue's `topics[0]`) through the handler `make_handler(private output topic)` makes.

    Records are keyed `tenant_id:event_id`, as ingest keys them; the loop hands the handler up to
    `max_batch` at a time.
    """
    source_topic, sink_topic = topics
    with ScratchTopics(connection.kafka_bootstrap, connection.schema_registry_url, prefix="bench") as scratch:
        source, sink = scratch.make(source_topic, 6), scratch.make(sink_topic, 6)
        dead = scratch.make(DEADLETTER.name, 1)
        codecs = Codecs(connection.schema_registry_url, carries=scratch.carries)
        producer = ReliableProducer(connection.kafka_bootstrap, client_id="bench")
        for value in values:
            producer.produce(source, codecs.encode(source, value), key=f"{value['tenant_id']}:{value['event_id']}")
        producer.flush()
        handler = TimedHandler(make_handler(sink))
        loop = ConsumerLoop(
            service,
            f"bench-{uuid.uuid4().hex[:8]}",
            [source],
            handler,
            connection=connection,
            settings=LoopSettings(max_batch=max_batch, max_wait_ms=100, deadletter_topic=dead),
            codecs=codecs,
        )
        loop.subscribe()
        try:
            return _drain(loop, len(values), handler, label)
        finally:
            loop.close()


def _drain(loop: ConsumerLoop, total: int, handler: TimedHandler, label: str) -> Throughput:
    first = 0
    while first == 0:
        first = loop.run_once().consumed
    handler.batch_ms.clear()
    started, done = time.perf_counter(), first
    while done < total:
        done += loop.run_once().consumed
    return Throughput(label, total - first, time.perf_counter() - started, handler.batch_ms)
