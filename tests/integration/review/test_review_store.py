"""The review store and outbox on a private migrated database (and, for the outbox, the real broker)."""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from aios.db.pool import open_pool
from aios.kafka.async_producer import AsyncProducer
from aios.kafka.serde import Codecs
from aios.keys.signing import RecordVerifier
from aios.outbox.publisher import OutboxPublisher
from aios.review.accounts import Reviewer, ReviewerAccounts
from aios.review.errors import InvalidVerdict, ItemNotFound, ReviewConflict, ReviewerExists, WeakPassword
from aios.review.outbox import ReviewOutbox
from aios.review.store import ReviewStore, Verdict
from aios.schemas.records import ReviewRequested, TraceContext
from aios.settings import ConnectionSettings
from aios.tenants.store import TenantStore
from tests.support.decide import enriched_value
from tests.support.kafka_io import read_topic, value_of

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
TRACE = {"traceparent": TRACEPARENT, "tracestate": None}
VERDICT_TRACE = TraceContext.from_avro(TRACE)
PASSWORD = "a long enough password"


def request_for(tenant_id: str, minutes_left: float = 30, priority: int = 3) -> ReviewRequested:
    event = enriched_value(tenant_id, confidence=0.4)
    value = {
        **{k: event[k] for k in ("event_id", "tenant_id", "occurred_at", "type", "text", "attributes")},
        "review_id": uuid.uuid4().hex,
        "reason": "unsure",
        "priority": priority,
        "sla_deadline": datetime.now(UTC) + timedelta(minutes=minutes_left),
        "classification": event["classification"],
        "passages": event["passages"],
        "draft": event["draft"],
        "proposed_actions": [],
        "policy": {"version": "v1", "rule": "unsure"},
        "trace": TRACE,
    }
    return ReviewRequested.from_avro(value)


Scenario = Callable[[asyncpg.Pool, dict[str, Reviewer]], Awaitable[None]]


def run(dsn: str, scenario: Scenario) -> None:
    """Two tenants with reviewers (acme: alice, carol; globex: bob), then the scenario."""

    async def main() -> None:
        async with open_pool(dsn) as pool:
            tenants, accounts = TenantStore(pool), ReviewerAccounts(pool)
            acme, globex = await tenants.create_tenant("acme"), await tenants.create_tenant("globex")
            reviewers = {}
            for tenant, name in ((acme, "alice"), (acme, "carol"), (globex, "bob")):
                found = await tenants.resolve(tenant.tenant_id)
                reviewers[name] = await accounts.add(found, name, PASSWORD)
            await scenario(pool, reviewers)

    asyncio.run(main())


def test_accounts_sessions_and_passwords(migrated_database: str) -> None:
    async def scenario(pool: asyncpg.Pool, reviewers: dict[str, Reviewer]) -> None:
        accounts = ReviewerAccounts(pool)
        alice = reviewers["alice"]
        assert await accounts.authenticate("acme", "alice", PASSWORD) == alice
        assert await accounts.authenticate("acme", "alice", "wrong password!") is None
        assert await accounts.authenticate("globex", "alice", PASSWORD) is None  # accounts are per tenant
        assert await accounts.authenticate("acme", "nobody", PASSWORD) is None
        stored = await pool.fetchval("SELECT password_hash FROM reviewers WHERE username = 'alice'")
        assert stored.startswith("$argon2id$") and PASSWORD not in stored
        acme = await TenantStore(pool).resolve("acme")
        with pytest.raises(ReviewerExists):
            await accounts.add(acme, "alice", PASSWORD)
        with pytest.raises(WeakPassword):
            await accounts.add(acme, "dave", "short")

        token, session = await accounts.open_session(alice, 60)
        assert await accounts.session(token, 600) == session and len(session.csrf_token) >= 32
        assert await pool.fetchval("SELECT count(*) FROM review_sessions WHERE token_hash = $1", token) == 0
        await accounts.set_password(acme, "alice", "another long password")
        assert await accounts.session(token, 600) is None  # a new password ends open sessions
        token, _ = await accounts.open_session(alice, 60)
        await pool.execute("UPDATE review_sessions SET expires_at = now() - interval '1 second'")
        assert await accounts.session(token, 600) is None

    run(migrated_database, scenario)


def test_claims_completion_once_and_tenant_scope(migrated_database: str) -> None:
    async def scenario(pool: asyncpg.Pool, reviewers: dict[str, Reviewer]) -> None:
        store = ReviewStore(pool)
        alice, carol, bob = reviewers["alice"], reviewers["carol"], reviewers["bob"]
        later = request_for(alice.tenant_id, minutes_left=60, priority=1)
        sooner = request_for(alice.tenant_id, minutes_left=10, priority=4)
        late = request_for(alice.tenant_id, minutes_left=-5, priority=2)
        assert await store.store_requests([later, sooner, late]) == 3
        assert await store.store_requests([later]) == 0  # a redelivered request changes nothing
        queue = await store.queue(alice.tenant_id)
        assert [item.review_id for item in queue] == [late.review_id, sooner.review_id, later.review_id]
        assert [item.overdue(datetime.now(UTC)) for item in queue] == [True, False, False]
        assert await store.counts() == {alice.tenant_id: (3, 1)}
        waited = await store.oldest_waiting(datetime.now(UTC) + timedelta(seconds=90))
        assert set(waited) == {alice.tenant_id} and 90 <= waited[alice.tenant_id] < 150
        assert await store.queue(bob.tenant_id) == []
        with pytest.raises(ItemNotFound):
            await store.item(bob.tenant_id, later.review_id)

        review_id = later.review_id
        with pytest.raises(ReviewConflict, match="claim the item first"):
            await store.complete(alice, review_id, Verdict("APPROVE"), VERDICT_TRACE)
        await store.claim(alice, review_id, 600)
        assert (await store.item(alice.tenant_id, review_id)).claimed_by == "alice"
        with pytest.raises(ReviewConflict, match="alice is reviewing"):
            await store.claim(carol, review_id, 600)
        with pytest.raises(ReviewConflict, match="alice is reviewing"):
            await store.complete(carol, review_id, Verdict("APPROVE"), VERDICT_TRACE)
        with pytest.raises(ItemNotFound):
            await store.claim(bob, review_id, 600)
        with pytest.raises(InvalidVerdict, match="why"):
            await store.complete(alice, review_id, Verdict("REJECT", reason=" "), VERDICT_TRACE)
        with pytest.raises(InvalidVerdict, match="intent"):
            await store.complete(alice, review_id, Verdict("RELABEL"), VERDICT_TRACE)

        # A stale claim expires: the colleague may take the item over.
        await pool.execute("UPDATE review_items SET claim_expires_at = now() - interval '1 second'")
        assert (await store.item(alice.tenant_id, review_id)).claimed_by is None
        await store.claim(carol, review_id, 600)
        with pytest.raises(ReviewConflict):
            await store.complete(alice, review_id, Verdict("APPROVE"), VERDICT_TRACE)

        # Two submissions at once: exactly one completes.
        results = await asyncio.gather(
            store.complete(carol, review_id, Verdict("RELABEL", corrected_label="transfer"), VERDICT_TRACE),
            store.complete(carol, review_id, Verdict("APPROVE"), VERDICT_TRACE),
            return_exceptions=True,
        )
        assert sum(isinstance(r, ReviewConflict) for r in results) == 1
        done = await store.item(alice.tenant_id, review_id)
        assert (done.status, done.completed_by) == ("completed", "carol")
        with pytest.raises(ReviewConflict, match="already completed"):
            await store.claim(alice, review_id, 600)
        [outbox] = await pool.fetch("SELECT record FROM review_outbox WHERE review_id = $1", review_id)
        record = json.loads(outbox["record"])
        assert done.completed_at is not None
        RecordVerifier("review", "aios.review.completed").verify(record)  # signed for decide to trust
        assert {**record, "signature": None} == {  # the outbox row as JSON, timestamps in epoch ms
            "event_id": later.event_id,
            "tenant_id": later.tenant_id,
            "occurred_at": int(later.occurred_at.timestamp() * 1000),
            "review_id": review_id,
            "verdict": done.verdict,
            "reviewer": "carol",
            "corrected_label": "transfer" if done.verdict == "RELABEL" else None,
            "edited_draft": None,
            "reason": "",
            "completed_at": int(done.completed_at.timestamp() * 1000),
            "trace": TRACE,
            "signature": None,
            "corrected_fields": None,  # no document: nothing of one corrected
            "line_items": None,
        }
        examples = await pool.fetch("SELECT label, source FROM labelled_examples WHERE review_id = $1", review_id)
        assert [(r["label"], r["source"]) for r in examples] == [
            ("transfer", "RELABEL") if done.verdict == "RELABEL" else ("balance", "APPROVE")
        ]

        # A rejection is a verdict but no labelled example.
        await store.claim(alice, sooner.review_id, 600)
        await store.complete(alice, sooner.review_id, Verdict("REJECT", reason="spam"), VERDICT_TRACE)
        assert await pool.fetchval("SELECT count(*) FROM labelled_examples") == 1
        assert await store.counts() == {alice.tenant_id: (1, 1)}

    run(migrated_database, scenario)


def test_outbox_keeps_verdicts_while_kafka_is_unreachable(
    migrated_database: str, connection: ConnectionSettings, topics: Callable[..., str]
) -> None:
    topic, deadletter = topics("aios.review.completed", partitions=1), topics("aios.deadletter", partitions=1)
    codecs = Codecs(
        connection.schema_registry_url, carries={topic: "aios.review.completed", deadletter: "aios.deadletter"}
    )

    async def scenario(pool: asyncpg.Pool, reviewers: dict[str, Reviewer]) -> None:
        store, alice, outbox = ReviewStore(pool), reviewers["alice"], ReviewOutbox(pool, codecs, topic)
        request = request_for(alice.tenant_id)
        await store.store_requests([request])
        await store.claim(alice, request.review_id, 600)
        await store.complete(alice, request.review_id, Verdict("EDIT_APPROVE", edited_draft="Better."), VERDICT_TRACE)

        down = AsyncProducer("127.0.0.1:1", client_id="test-outbox-down")
        try:
            unreachable = OutboxPublisher(outbox, down, codecs, deadletter, service="review", ack_timeout_s=2)
            assert await unreachable.drain() == 0
            assert await outbox.pending() == 1  # still there, to be sent later
        finally:
            await asyncio.to_thread(down.close, 0.1)

        up = AsyncProducer(connection.kafka_bootstrap, client_id="test-outbox-up")
        try:
            publisher = OutboxPublisher(outbox, up, codecs, deadletter, service="review")
            assert await publisher.drain() == 1
            assert await outbox.pending() == 0
            assert await publisher.drain() == 0
        finally:
            await asyncio.to_thread(up.close)

    run(migrated_database, scenario)
    [message] = read_topic(connection.kafka_bootstrap, topic, lambda records: len(records) >= 1)
    value = codecs.decode(topic, value_of(message))
    assert (value["verdict"], value["edited_draft"], value["reviewer"]) == ("EDIT_APPROVE", "Better.", "alice")
    assert message.key() == f"{value['tenant_id']}:{value['event_id']}".encode()
    assert dict(message.headers() or [])["traceparent"] == TRACEPARENT.encode()


def test_a_verdict_kafka_refuses_is_dead_lettered_and_the_others_go_on(
    migrated_database: str, connection: ConnectionSettings, topics: Callable[..., str]
) -> None:
    """One verdict too large for the topic, one too large for any broker: neither holds back the others."""
    topic = topics("aios.review.completed", partitions=1, config={"max.message.bytes": "16384"})
    deadletter = topics("aios.deadletter", partitions=1)
    codecs = Codecs(
        connection.schema_registry_url, carries={topic: "aios.review.completed", deadletter: "aios.deadletter"}
    )
    too_large_for_topic = secrets.token_urlsafe(40_000)  # random text: lz4 cannot bring it under 16 KiB
    too_large_for_kafka = secrets.token_urlsafe(1_200_000)  # over librdkafka's 1 MB message.max.bytes
    requests: dict[str, ReviewRequested] = {}

    async def scenario(pool: asyncpg.Pool, reviewers: dict[str, Reviewer]) -> None:
        store, outbox = ReviewStore(pool), ReviewOutbox(pool, codecs, topic)
        verdicts = [
            ("first", "alice", Verdict("APPROVE")),
            ("for-topic", "alice", Verdict("EDIT_APPROVE", edited_draft=too_large_for_topic)),
            ("for-kafka", "carol", Verdict("EDIT_APPROVE", edited_draft=too_large_for_kafka)),
            ("other-tenant", "bob", Verdict("REJECT", reason="spam")),
            ("last", "carol", Verdict("APPROVE")),
        ]
        for name, reviewer, verdict in verdicts:  # committed in this order: the outbox sends them oldest first
            request = requests[name] = request_for(reviewers[reviewer].tenant_id)
            await store.store_requests([request])
            await store.claim(reviewers[reviewer], request.review_id, 600)
            await store.complete(reviewers[reviewer], request.review_id, verdict, VERDICT_TRACE)

        producer = AsyncProducer(connection.kafka_bootstrap, client_id="test-outbox-refused")
        try:
            publisher = OutboxPublisher(outbox, producer, codecs, deadletter, service="review", ack_timeout_s=30)
            assert await publisher.drain() == 5
            assert await outbox.pending() == 0
            assert await publisher.drain() == 0  # the refused ones are not tried again
        finally:
            await asyncio.to_thread(producer.close)
        marked = await pool.fetch(
            "SELECT review_id, dead_letter_reason FROM review_outbox WHERE dead_lettered_at IS NOT NULL"
        )
        assert {row["review_id"] for row in marked} == {
            requests["for-topic"].review_id,
            requests["for-kafka"].review_id,
        }
        assert all("too large" in row["dead_letter_reason"] for row in marked)

    run(migrated_database, scenario)
    published = read_topic(connection.kafka_bootstrap, topic, lambda records: len(records) >= 3)
    assert sorted(codecs.decode(topic, value_of(m))["review_id"] for m in published) == sorted(
        requests[name].review_id for name in ("first", "other-tenant", "last")
    )
    letters = [
        codecs.decode(deadletter, value_of(m))
        for m in read_topic(connection.kafka_bootstrap, deadletter, lambda records: len(records) >= 2)
    ]
    by_event = {letter["event_id"]: letter for letter in letters}
    for_topic, for_kafka = by_event[requests["for-topic"].event_id], by_event[requests["for-kafka"].event_id]
    for letter, name in ((for_topic, "for-topic"), (for_kafka, "for-kafka")):
        assert (letter["tenant_id"], letter["service"], letter["error_kind"]) == (
            requests[name].tenant_id,
            "review",
            "undeliverable",
        )
        assert (letter["original_topic"], letter["original_partition"], letter["original_offset"]) == (topic, -1, -1)
        assert "Message size too large" in letter["reason"]
    # The record the topic refused is kept for a replay; the one over every limit is described instead.
    assert codecs.decode(topic, for_topic["original_value"])["edited_draft"] == too_large_for_topic
    assert for_kafka["original_value"] is None and "original record not kept" in for_kafka["reason"]


def test_a_stored_verdict_that_does_not_fit_the_schema_is_dead_lettered_as_it_was_stored(
    migrated_database: str, connection: ConnectionSettings, topics: Callable[..., str]
) -> None:
    topic, deadletter = topics("aios.review.completed", partitions=1), topics("aios.deadletter", partitions=1)
    codecs = Codecs(
        connection.schema_registry_url, carries={topic: "aios.review.completed", deadletter: "aios.deadletter"}
    )
    stored: list[ReviewRequested] = []

    async def scenario(pool: asyncpg.Pool, reviewers: dict[str, Reviewer]) -> None:
        store, outbox, alice = ReviewStore(pool), ReviewOutbox(pool, codecs, topic), reviewers["alice"]
        stored.extend([request_for(alice.tenant_id), request_for(alice.tenant_id)])
        for request in stored:
            await store.store_requests([request])
            await store.claim(alice, request.review_id, 600)
            await store.complete(alice, request.review_id, Verdict("APPROVE"), VERDICT_TRACE)
        await pool.execute(
            "UPDATE review_outbox SET record = record - 'reviewer' WHERE review_id = $1", stored[0].review_id
        )
        producer = AsyncProducer(connection.kafka_bootstrap, client_id="test-outbox-unencodable")
        try:
            publisher = OutboxPublisher(outbox, producer, codecs, deadletter, service="review")
            assert (await publisher.drain(), await outbox.pending()) == (2, 0)
        finally:
            await asyncio.to_thread(producer.close)

    run(migrated_database, scenario)
    assert len(read_topic(connection.kafka_bootstrap, topic, lambda records: len(records) >= 1)) == 1
    [message] = read_topic(connection.kafka_bootstrap, deadletter, lambda records: len(records) >= 1)
    letter = codecs.decode(deadletter, value_of(message))
    assert (letter["event_id"], letter["error_kind"]) == (stored[0].event_id, "output-invalid")
    assert "does not fit its schema" in letter["reason"]
    assert json.loads(letter["original_value"])["review_id"] == stored[0].review_id
