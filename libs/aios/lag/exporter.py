"""Consumer lag as the broker sees it: each group's committed offsets against the partitions' high watermarks.

A consumer's own view (librdkafka statistics, `aios_consumer_lag`) vanishes with the consumer:
a crashed or stuck service stops reporting exactly when its lag matters. This exporter reads
what the group has committed from the broker, so lag keeps growing on the dashboard while
nothing consumes. One instance serves the whole cluster (`python -m services.lag_exporter`).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterable

from confluent_kafka import ConsumerGroupTopicPartitions, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec
from pydantic import Field
from pydantic_settings import SettingsConfigDict

from aios.kafka.clients import kafka_config
from aios.observability import metrics
from aios.runtime.catalog import service
from aios.runtime.worker import ServiceSettings, Worker, WorkerSpec

log = logging.getLogger(__name__)

SERVICE = "lag-exporter"

Coordinates = tuple[str, str, int]
"""(group, topic, partition)"""


class LagExporterSettings(ServiceSettings):
    """Read from `AIOS_LAG_EXPORTER_*` variables."""

    model_config = SettingsConfigDict(env_prefix="AIOS_LAG_EXPORTER_", extra="ignore", frozen=True)

    metrics_port: int = Field(default=service(SERVICE).port, ge=0, description="Serves /metrics; 0 turns it off.")
    interval_s: float = Field(default=10.0, gt=0, description="How often lag is read from the broker.")
    groups: str = Field(
        default=".*", description="Regular expression a consumer group id must match (whole id) to be reported."
    )
    timeout_s: float = Field(default=10.0, gt=0, description="Time limit of each admin request.")


class BrokerLag:
    def __init__(self, bootstrap: str, groups: str = ".*", timeout_s: float = 10.0) -> None:
        self.admin = AdminClient({**kafka_config(bootstrap), "client.id": "aios-lag-exporter"})
        self.pattern = re.compile(groups)
        self.timeout_s = timeout_s

    def measure(self) -> dict[Coordinates, int]:
        """Lag of every partition some matching group has committed an offset for."""
        committed = self._committed(self._groups())
        watermarks = self._high_watermarks({(topic, partition) for _, topic, partition in committed})
        return {
            (group, topic, partition): max(0, watermarks[(topic, partition)] - offset)
            for (group, topic, partition), offset in committed.items()
            if (topic, partition) in watermarks
        }

    def _groups(self) -> list[str]:
        listed = self.admin.list_consumer_groups(request_timeout=self.timeout_s).result(self.timeout_s)
        return sorted(g.group_id for g in listed.valid if self.pattern.fullmatch(g.group_id))

    def _committed(self, groups: Iterable[str]) -> dict[Coordinates, int]:
        # One group per request (the admin API's limit); the requests run concurrently.
        futures = {
            group: self.admin.list_consumer_group_offsets(
                [ConsumerGroupTopicPartitions(group)], request_timeout=self.timeout_s
            )[group]
            for group in groups
        }
        committed: dict[Coordinates, int] = {}
        for group, future in futures.items():
            try:
                answer = future.result(self.timeout_s)
            except KafkaException as exc:
                log.warning("offsets of group %s unreadable: %s", group, exc)
                continue
            for tp in answer.topic_partitions or []:
                if tp.error is None and tp.offset >= 0:
                    committed[(group, tp.topic, tp.partition)] = tp.offset
        return committed

    def _high_watermarks(self, partitions: set[tuple[str, int]]) -> dict[tuple[str, int], int]:
        if not partitions:
            return {}
        futures = self.admin.list_offsets(
            {TopicPartition(topic, partition): OffsetSpec.latest() for topic, partition in partitions},
            request_timeout=self.timeout_s,
        )
        found: dict[tuple[str, int], int] = {}
        for tp, future in futures.items():
            try:
                found[(tp.topic, tp.partition)] = future.result(self.timeout_s).offset
            except KafkaException:
                continue  # a topic deleted since the group committed: no lag to report
        return found


class LagExporter:
    """Refreshes the lag gauges every `interval_s`; a failed refresh keeps the last values (and says so)."""

    def __init__(self, lag: BrokerLag, interval_s: float) -> None:
        self.lag = lag
        self.interval_s = interval_s
        self._stop = threading.Event()

    def refresh(self) -> dict[Coordinates, int]:
        started = time.perf_counter()
        measured = self.lag.measure()
        metrics.set_group_lag(measured, time.perf_counter() - started)
        return measured

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                self.refresh()
            except KafkaException as exc:
                log.warning("consumer lag not refreshed: %s", exc)
            self._stop.wait(self.interval_s)

    def stop(self) -> None:
        self._stop.set()


def start_exporter(worker: Worker[LagExporterSettings]) -> LagExporter:
    settings = worker.settings
    log.info("lag exporter: groups matching %r every %.0f s", settings.groups, settings.interval_s)
    return LagExporter(
        BrokerLag(worker.connection.kafka_bootstrap, settings.groups, settings.timeout_s), settings.interval_s
    )


def lag_exporter(settings: LagExporterSettings) -> WorkerSpec[LagExporterSettings]:
    """Serve broker-side consumer lag on /metrics until SIGTERM."""
    return WorkerSpec(SERVICE, settings, run=start_exporter)
