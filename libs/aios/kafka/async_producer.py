"""A producer for asyncio servers: `send` returns a future the broker's acknowledgement resolves.

librdkafka delivers reports on whichever thread polls; one background thread polls and hands
the reports to the event loop, so request handlers simply `await` the ack. The reports one poll
serves are handed over together: one wake-up of the loop per poll, not one per record, which is
what keeps a busy server's loop from spending its time on cross-thread wake-ups.
"""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict
from typing import Any, cast

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from aios.kafka.errors import DeliveryError
from aios.kafka.producer import ClientHeaders, Headers, reliable_producer_config

_Report = tuple["asyncio.Future[Message]", KafkaError | None, Message]
"""A delivery report: the future waiting for it, the error (None when acknowledged), the message."""


class AsyncProducer:
    def __init__(self, bootstrap: str, client_id: str, extra: dict[str, Any] | None = None) -> None:
        self._producer = Producer({**reliable_producer_config(bootstrap, client_id), **(extra or {})})
        self._closing = threading.Event()
        self._reports: list[_Report] = []
        """Delivery reports served by the current poll; only the thread that polls touches it."""
        self._poller = threading.Thread(target=self._poll, name=f"{client_id}-acks", daemon=True)
        self._poller.start()

    def _poll(self) -> None:
        while not self._closing.is_set():
            self._producer.poll(0.05)
            self._hand_over()

    def _hand_over(self) -> None:
        """Settle the served reports' futures on their loops, one call per loop."""
        if not self._reports:
            return
        reports, self._reports = self._reports, []
        by_loop: dict[asyncio.AbstractEventLoop, list[_Report]] = defaultdict(list)
        for report in reports:
            by_loop[report[0].get_loop()].append(report)
        for loop, batch in by_loop.items():
            if not loop.is_closed():
                loop.call_soon_threadsafe(_settle_all, batch)

    def send(
        self, topic: str, value: bytes, key: bytes | str | None = None, headers: Headers | None = None
    ) -> asyncio.Future[Message]:
        """Queue a record; the future resolves with the acked message or fails with DeliveryError."""
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()

        def on_delivery(error: KafkaError | None, message: Message) -> None:
            self._reports.append((future, error, message))

        try:
            self._producer.produce(
                topic, value=value, key=key, headers=cast(ClientHeaders | None, headers), on_delivery=on_delivery
            )
        except BufferError as exc:
            future.set_exception(DeliveryError(f"local produce queue is full: {exc}"))
        except KafkaException as exc:  # unknown topic, message too large...
            error = exc.args[0] if exc.args and isinstance(exc.args[0], KafkaError) else None
            future.set_exception(DeliveryError(f"{topic}: {exc}", error.code() if error else None))
        except Exception as exc:
            future.set_exception(DeliveryError(str(exc)))
        return future

    def reachable(self, timeout_s: float = 2.0) -> bool:
        try:
            return bool(self._producer.list_topics(timeout=timeout_s).brokers)
        except Exception:
            return False

    def close(self, timeout_s: float = 10.0) -> int:
        """Flush what is queued; returns how many records were still unacknowledged.

        Those are purged, their futures failed: a queued record's delivery callback holds this
        object, so librdkafka would otherwise keep the client (and its reconnect attempts) alive.
        """
        self._closing.set()
        self._poller.join()
        unacknowledged = self._producer.flush(timeout_s)
        if unacknowledged:
            self._producer.purge()
            self._producer.flush(0)  # serves the purged records' reports
        self._hand_over()
        return unacknowledged


def _settle_all(reports: list[_Report]) -> None:
    for future, error, message in reports:
        if future.done():
            continue
        if error is not None:
            future.set_exception(DeliveryError(f"{message.topic()}: {error.str()}", error.code()))
        else:
            future.set_result(message)
