"""Waiting for an event's outcome: one subscription to `CHANNEL` per process, one future per waiting request.

A waiter registers its future before it reads the stored outcome, so an outcome settled in
between is either read or delivered. The subscription is the fast path; a waiter also reads
the store again every `recheck_s`, so a message lost while the subscription reconnects only
delays an answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from aios.outcomes.model import Outcome
from aios.outcomes.store import CHANNEL, StoredOutcome, read_outcome

log = logging.getLogger(__name__)


class OutcomeWaiter:
    def __init__(self, redis_url: str, store: Redis, recheck_s: float = 1.0) -> None:
        self.subscriber = Redis.from_url(redis_url)
        self.store = store
        self.recheck_s = recheck_s
        self._waiting: defaultdict[str, set[asyncio.Future[StoredOutcome]]] = defaultdict(set)
        self._listening: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._listening = asyncio.create_task(self._listen(), name="outcome-waiter")

    async def close(self) -> None:
        if self._listening is not None:
            self._listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listening
        await self.subscriber.aclose()

    async def wait(self, event_id: str, tenant_id: str, timeout_s: float) -> Outcome | None:
        """The event's outcome once it has one (final or waiting), or None if `timeout_s` passes first."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        future: asyncio.Future[StoredOutcome] = loop.create_future()
        self._waiting[event_id].add(future)
        try:
            while True:
                outcome = await read_outcome(self.store, event_id, tenant_id)
                if outcome is not None:
                    return outcome
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return None
                try:
                    stored = await asyncio.wait_for(asyncio.shield(future), min(remaining, self.recheck_s))
                except TimeoutError:
                    continue
                return stored.outcome if stored.tenant_id == tenant_id else None
        finally:
            waiting = self._waiting[event_id]
            waiting.discard(future)
            if not waiting:
                del self._waiting[event_id]

    async def _listen(self) -> None:
        while True:
            try:
                async with self.subscriber.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    async for message in pubsub.listen():
                        if message["type"] == "message":
                            self._deliver(message["data"])
            except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
                log.warning("outcome subscription lost (%s); waiters read the store until it is back", exc)
                await asyncio.sleep(1)

    def _deliver(self, data: bytes) -> None:
        try:
            stored = StoredOutcome.from_json(data)
        except ValueError:
            log.warning("not an outcome on %s: %r", CHANNEL, data[:200])
            return
        for future in self._waiting.get(stored.event_id, ()):
            if not future.done():
                future.set_result(stored)
