"""A producer for asyncio servers: `send` returns a future the broker's acknowledgement resolves.

librdkafka delivers reports on whichever thread polls; one background thread polls and hands
each report to the event loop, so request handlers simply `await` the ack.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from confluent_kafka import KafkaError, Message, Producer

from aios.kafka.errors import DeliveryError
from aios.kafka.producer import reliable_producer_config


class AsyncProducer:
    def __init__(self, bootstrap: str, client_id: str, extra: dict[str, Any] | None = None) -> None:
        self._producer = Producer({**reliable_producer_config(bootstrap, client_id), **(extra or {})})
        self._closing = threading.Event()
        self._poller = threading.Thread(target=self._poll, name=f"{client_id}-acks", daemon=True)
        self._poller.start()

    def _poll(self) -> None:
        while not self._closing.is_set():
            self._producer.poll(0.05)

    def send(
        self, topic: str, value: bytes, key: bytes | str | None = None, headers: list[tuple[str, bytes]] | None = None
    ) -> asyncio.Future[Message]:
        """Queue a record; the future resolves with the acked message or fails with DeliveryError."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Message] = loop.create_future()

        def on_delivery(error: KafkaError | None, message: Message) -> None:
            loop.call_soon_threadsafe(_settle, future, error, message)

        try:
            self._producer.produce(topic, value=value, key=key, headers=headers, on_delivery=on_delivery)
        except BufferError as exc:
            future.set_exception(DeliveryError(f"local produce queue is full: {exc}"))
        except Exception as exc:  # KafkaException: unknown topic, message too large...
            future.set_exception(DeliveryError(str(exc)))
        return future

    def reachable(self, timeout_s: float = 2.0) -> bool:
        try:
            return bool(self._producer.list_topics(timeout=timeout_s).brokers)
        except Exception:
            return False

    def close(self, timeout_s: float = 10.0) -> int:
        """Flush what is queued; returns how many records were still unacknowledged."""
        self._closing.set()
        self._poller.join()
        return self._producer.flush(timeout_s)


def _settle(future: asyncio.Future[Message], error: KafkaError | None, message: Message) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(DeliveryError(f"{message.topic()}: {error.str()}"))
    else:
        future.set_result(message)
