"""The outcome notifier: follows the outcome topics, keeps each event's parts in Redis and announces
every new outcome (`aios.outcomes.store`), so the edge can answer callers who wait without asking
any service; final outcomes are also owed to tenants' callbacks (`aios.outcomes.callbacks`).

Per batch, in order: store the parts, assemble the outcomes they complete, record the callbacks
owed (PostgreSQL), then settle and announce (Redis). A failure before the last step makes the
loop retry the batch; recording a callback twice adds nothing, so none is lost or doubled.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Callable

import httpx
from redis import Redis as SyncRedis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from aios.db.migrations import migrate
from aios.db.pool import UNAVAILABLE_ERRORS, create_pool
from aios.kafka.errors import TransientError
from aios.kafka.records import InputRecord, OutputRecord
from aios.outcomes.callbacks import CallbackSender, CallbackStore
from aios.outcomes.model import (
    DEAD_LETTER,
    DECISION,
    REVIEW,
    action_part,
    dead_letter_part,
    decision_part,
    outcome_of,
    review_part,
)
from aios.outcomes.settings import OutcomesSettings
from aios.outcomes.store import OutcomeWriter, StoredOutcome
from aios.runtime.worker import Worker, WorkerSpec
from aios.schemas.records import ActionExecuted, DeadLetter, Decision, ReviewRequested

log = logging.getLogger(__name__)

SERVICE = "outcomes"


class OutcomeNotifier:
    """The consumer-loop handler: one batch → its parts stored, the outcomes they complete settled."""

    def __init__(
        self,
        settings: OutcomesSettings,
        writer: OutcomeWriter,
        owe: Callable[[list[StoredOutcome]], None],
    ) -> None:
        self.settings = settings
        self.writer = writer
        self.owe = owe
        """Records the callbacks owed for final outcomes (blocking until they are stored)."""

    def __call__(self, records: list[InputRecord]) -> list[OutputRecord]:
        parts: list[tuple[str, str, str]] = []
        tenants: dict[str, str] = {}
        for record in records:
            found = self.part_of(record)
            if found is not None:
                parts.append(found)
                tenants[found[0]] = str(record.value["tenant_id"])
        if not parts:
            return []
        try:
            known = self.writer.add_parts(parts)
            outcomes = []
            for event_id, event_parts in known.items():
                outcome = outcome_of(event_parts)
                if outcome is not None:
                    outcomes.append(StoredOutcome(event_id, tenants[event_id], outcome))
            self.owe(outcomes)
            for settled in self.writer.settle(outcomes):
                log.info("event %s: %s", settled.event_id, settled.outcome.kind)
        except (RedisConnectionError, RedisTimeoutError) as exc:
            raise TransientError(f"redis unavailable: {exc}") from exc
        except UNAVAILABLE_ERRORS as exc:
            raise TransientError(f"postgresql unavailable: {exc}") from exc
        return []

    def part_of(self, record: InputRecord) -> tuple[str, str, str] | None:
        """(event id, part name, part) of a record, or None for one that ends nothing."""
        value, topic = record.value, record.topic
        if topic == self.settings.decisions_topic:
            return value["event_id"], DECISION, decision_part(Decision.from_avro(value))
        if topic == self.settings.executed_topic:
            return (value["event_id"], *action_part(ActionExecuted.from_avro(value)))
        if topic == self.settings.review_requested_topic:
            return value["event_id"], REVIEW, review_part(ReviewRequested.from_avro(value))
        dead = dead_letter_part(DeadLetter.from_avro(value))
        return None if dead is None else (value["event_id"], DEAD_LETTER, dead)


def start_notifier(worker: Worker[OutcomesSettings]) -> OutcomeNotifier:
    """Redis for outcomes; on the background loop, the pool and the sender of callbacks."""
    settings, background = worker.settings, worker.background
    redis = SyncRedis.from_url(worker.connection.redis_url)
    worker.on_close(redis.close)
    callbacks, sender = background.run(_open_callbacks(settings, worker.connection.postgres_dsn.get_secret_value()))
    sending = background.spawn(sender.run())
    worker.on_close(lambda: background.run(_close_callbacks(callbacks, sender, sending), timeout_s=30))

    def owe(outcomes: list[StoredOutcome]) -> None:
        background.run(callbacks.owe(outcomes))
        background.loop.call_soon_threadsafe(sender.wake)

    return OutcomeNotifier(settings, OutcomeWriter(redis, settings.ttl_s), owe)


async def _open_callbacks(settings: OutcomesSettings, dsn: str) -> tuple[CallbackStore, CallbackSender]:
    pool = await create_pool(dsn, min_size=1, max_size=4)
    await migrate(pool)
    store = CallbackStore(pool)
    return store, CallbackSender(store, settings, httpx.AsyncClient())


async def _close_callbacks(
    store: CallbackStore, sender: CallbackSender, sending: concurrent.futures.Future[None]
) -> None:
    """Let the sender finish the POST in hand, then close its client and the pool."""
    sender.stopping = True
    sender.wake()
    await asyncio.wait_for(asyncio.wrap_future(sending), 20)
    await sender.client.aclose()
    await store.pool.close()


def outcomes_worker(settings: OutcomesSettings) -> WorkerSpec[OutcomesSettings]:
    """Follow the outcome topics until SIGTERM."""
    return WorkerSpec(SERVICE, settings, consume=start_notifier)
