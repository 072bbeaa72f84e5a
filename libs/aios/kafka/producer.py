"""A producer that never loses a record silently: acks=all, idempotence, errors raised on flush."""

from __future__ import annotations

import logging
from typing import Any, cast

from confluent_kafka import KafkaError, Message, Producer

from aios.kafka.clients import kafka_config
from aios.kafka.errors import DeliveryError

Headers = list[tuple[str, bytes]]
"""Kafka record headers as AIOS writes them: name and raw bytes, in order."""

ClientHeaders = list[tuple[str, str | bytes | None]]
"""What confluent-kafka's type stubs ask of `produce` (a list is invariant, so `Headers` needs a cast)."""

log = logging.getLogger(__name__)


def reliable_producer_config(bootstrap: str, client_id: str) -> dict[str, Any]:
    """Settings for durable delivery: every in-sync replica acknowledges, retries never duplicate."""
    return {
        **kafka_config(bootstrap),
        "client.id": client_id,
        "acks": "all",
        "enable.idempotence": True,
        "linger.ms": 5,
        "compression.type": "lz4",
        "delivery.timeout.ms": 120_000,
    }


class ReliableProducer:
    """Produce many, then `flush`: which raises if any record was not acknowledged."""

    def __init__(self, bootstrap: str, client_id: str, extra: dict[str, Any] | None = None) -> None:
        self._producer = Producer({**reliable_producer_config(bootstrap, client_id), **(extra or {})})
        self._failures: list[str] = []
        self.acknowledged: dict[str, int] = {}
        """Acknowledged records per topic since the last flush."""

    def produce(
        self,
        topic: str,
        value: bytes,
        key: bytes | str | None = None,
        headers: Headers | None = None,
        partition: int = -1,
    ) -> None:
        """`partition`: where the record goes regardless of its key (-1: the partitioner picks by key)."""
        while True:
            try:
                self._producer.produce(
                    topic,
                    value=value,
                    key=key,
                    headers=cast(ClientHeaders | None, headers),
                    on_delivery=self._on_delivery,
                    partition=partition,
                )
                return
            except BufferError:
                # The local queue is full: serve delivery reports until there is room.
                self._producer.poll(0.1)

    def _on_delivery(self, error: KafkaError | None, message: Message) -> None:
        if error is not None:
            self._failures.append(f"{message.topic()}: {error.str()}")
        else:
            topic = message.topic() or ""
            self.acknowledged[topic] = self.acknowledged.get(topic, 0) + 1

    def flush(self, timeout_s: float = 120.0) -> dict[str, int]:
        """Wait for every acknowledgement; returns counts per topic or raises DeliveryError."""
        remaining = self._producer.flush(timeout_s)
        failures, self._failures = self._failures, []
        acknowledged, self.acknowledged = self.acknowledged, {}
        if remaining:
            failures.append(f"{remaining} record(s) still unacknowledged after {timeout_s:.0f}s")
        if failures:
            raise DeliveryError(
                "; ".join(failures[:5]) + (f" (+{len(failures) - 5} more)" if len(failures) > 5 else "")
            )
        return acknowledged
