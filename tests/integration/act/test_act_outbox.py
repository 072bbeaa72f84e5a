"""Act's outbox table behind the shared publisher, on a private database and the real broker."""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from aios.act.plan import executed_record, record_key
from aios.act.store import ActStore
from aios.db.pool import open_pool
from aios.kafka.async_producer import AsyncProducer
from aios.kafka.serde import Codecs
from aios.outbox.publisher import OutboxPublisher
from aios.schemas.records import TraceContext
from aios.settings import ConnectionSettings
from tests.support.kafka_io import read_topic, value_of

TRACE = {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}


def test_sent_rows_are_deleted_and_a_refused_one_is_dead_lettered_and_kept(
    migrated_database: str, connection: ConnectionSettings, topics: Callable[..., str]
) -> None:
    executed = topics("aios.actions.executed", partitions=1, config={"max.message.bytes": "2048"})
    deadletter = topics("aios.deadletter", partitions=1)
    codecs = Codecs(
        connection.schema_registry_url, carries={executed: "aios.actions.executed", deadletter: "aios.deadletter"}
    )
    tenant = str(uuid.uuid4())
    errors = [None, secrets.token_urlsafe(3000), None]  # 4,000 random characters: over 2 KiB even compressed
    values = [
        executed_record(
            event_id=str(uuid.uuid4()),
            tenant_id=tenant,
            occurred_at=datetime.now(UTC),
            decision_id=uuid.uuid4().hex,
            action_id=uuid.uuid4().hex,
            action_type="webhook.post",
            status="FAILED" if error else "SUCCEEDED",
            attempts=1,
            trace=TraceContext.from_avro(TRACE),
            error=error,
        ).to_avro()
        for error in errors
    ]
    refused = values[1]

    async def scenario() -> None:
        async with open_pool(migrated_database) as pool:
            await pool.executemany(
                "INSERT INTO act_outbox (topic, key, value, headers) VALUES ($1, $2, $3, $4::jsonb)",
                [
                    (executed, record_key(tenant, v["event_id"]), codecs.encode(executed, v), json.dumps(TRACE))
                    for v in values
                ],
            )
            store = ActStore(pool)
            producer = AsyncProducer(connection.kafka_bootstrap, client_id="test-act-outbox")
            try:
                publisher = OutboxPublisher(store, producer, codecs, deadletter, service="act")
                assert await publisher.drain() == 3
                assert (await store.pending(), await publisher.drain()) == (0, 0)
            finally:
                await asyncio.to_thread(producer.close)
            [kept] = await pool.fetch("SELECT key, dead_lettered_at, dead_letter_reason FROM act_outbox")
            assert kept["key"] == record_key(tenant, refused["event_id"]) and kept["dead_lettered_at"] is not None
            assert "Message size too large" in kept["dead_letter_reason"]

    asyncio.run(scenario())
    published = read_topic(connection.kafka_bootstrap, executed, lambda records: len(records) >= 2)
    assert [codecs.decode(executed, value_of(m))["action_id"] for m in published] == [
        values[0]["action_id"],
        values[2]["action_id"],
    ]
    [letter] = [
        codecs.decode(deadletter, value_of(m))
        for m in read_topic(connection.kafka_bootstrap, deadletter, lambda records: len(records) >= 1)
    ]
    assert (letter["event_id"], letter["tenant_id"], letter["service"], letter["error_kind"]) == (
        refused["event_id"],
        tenant,
        "act",
        "undeliverable",
    )
    assert letter["original_topic"] == executed and "Message size too large" in letter["reason"]
    assert codecs.decode(executed, letter["original_value"])["action_id"] == refused["action_id"]
