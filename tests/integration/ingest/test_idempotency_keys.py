"""Idempotency keys in the real Redis: a claim left pending by an attempt that died is taken over, same event id."""

from __future__ import annotations

import asyncio
import uuid

from redis.asyncio import Redis

from aios.ingest.idempotency import ClaimState, IdempotencyKeys
from aios.settings import ConnectionSettings


def test_a_claim_left_pending_by_a_dead_attempt_is_taken_over_with_its_event_id(
    connection: ConnectionSettings,
) -> None:
    """An ingest killed between claiming a key and recording the ack must not wedge the key for a day."""

    async def scenario() -> None:
        redis = Redis.from_url(connection.redis_url)
        keys = IdempotencyKeys(redis, ttl_s=60, stale_after_s=0.5)
        tenant, key = f"tenant-{uuid.uuid4().hex}", "ticket-4711"
        try:
            first = await keys.claim(tenant, key, "fingerprint", "event-1")
            assert first.state is ClaimState.NEW
            # The attempt holding it is still within its ack timeout: a retry waits.
            assert (await keys.claim(tenant, key, "fingerprint", "event-2")).state is ClaimState.PENDING
            await asyncio.sleep(0.6)
            # Its attempt died (no complete, no release): the retry takes over with the same event id,
            # so a record the dead attempt may have written is the same event, not a second one.
            takeover = await keys.claim(tenant, key, "fingerprint", "event-3")
            assert (takeover.state, takeover.event_id) == (ClaimState.NEW, "event-1")
            # A late release of the dead attempt's claim must not drop the new owner's.
            await keys.release(tenant, key, first)
            assert (await keys.claim(tenant, key, "fingerprint", "event-4")).state is ClaimState.PENDING
            await keys.complete(tenant, key, "fingerprint", takeover.event_id)
            done = await keys.claim(tenant, key, "fingerprint", "event-5")
            assert (done.state, done.event_id) == (ClaimState.DONE, "event-1")
            assert (await keys.claim(tenant, key, "other", "event-6")).state is ClaimState.CONFLICT
        finally:
            await redis.delete(keys._key(tenant, key))
            await redis.aclose()

    asyncio.run(scenario())


def test_a_failed_attempt_releases_its_claim_and_the_retry_starts_afresh(connection: ConnectionSettings) -> None:
    async def scenario() -> None:
        redis = Redis.from_url(connection.redis_url)
        keys = IdempotencyKeys(redis, ttl_s=60, stale_after_s=30)
        tenant = f"tenant-{uuid.uuid4().hex}"
        try:
            first = await keys.claim(tenant, "k", "fingerprint", "event-1")
            await keys.release(tenant, "k", first)
            retry = await keys.claim(tenant, "k", "fingerprint", "event-2")
            assert (retry.state, retry.event_id) == (ClaimState.NEW, "event-2")
        finally:
            await redis.delete(keys._key(tenant, "k"))
            await redis.aclose()

    asyncio.run(scenario())
