"""Closing the asyncio producer settles every record it was given, even with no broker to take them."""

from __future__ import annotations

import asyncio

import pytest
from confluent_kafka import Message

from aios.kafka.async_producer import AsyncProducer
from aios.kafka.errors import DeliveryError


def test_close_fails_what_the_broker_never_acknowledged() -> None:
    """Before, the record stayed queued: its future never settled and the client kept reconnecting."""

    async def scenario() -> asyncio.Future[Message]:
        producer = AsyncProducer("127.0.0.1:1", client_id="test-close-unreachable")  # nothing listens there
        ack = producer.send("aios.events.received", b"value", key="tenant:event")
        assert await asyncio.to_thread(producer.close, 0.1) == 1
        await asyncio.wait_for(asyncio.shield(ack), 5)
        return ack

    with pytest.raises(DeliveryError):
        asyncio.run(scenario())
