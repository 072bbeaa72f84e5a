"""The act inbox, schedule, saga state and outbox in PostgreSQL (tables of migration 0006).

Each action id is a primary key: a redelivered decision inserts nothing, so it runs nothing
twice. A result is recorded together with the outbox records announcing it, in one transaction,
and only by the executor still holding the action's lease (its attempt number is the fence).
Claiming hands out at most `tenant_limit` actions per tenant, so one tenant's slow target never
takes all of an executor's slots.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from aios.act import saga
from aios.act.plan import DecisionPlan, compensation_id_for
from aios.outbox.publisher import OutboxRecord, OutboxRow, Send


@dataclass(frozen=True)
class Source:
    """Where a decision was read, and its bytes: a dead letter about its actions can be replayed."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    trace: Mapping[str, Any]


@dataclass(frozen=True)
class ClaimedAction:
    action_id: str
    decision_id: str
    tenant_id: str
    event_id: str
    occurred_at: datetime
    position: int
    kind: str
    """`action`, or `compensation` of the action `compensates`."""
    compensates: str | None
    compensates_type: str | None
    compensates_ref: str | None
    """The external reference the compensated action recorded (what to undo)."""
    compensates_params: dict[str, str] | None
    """The compensated action's parameters (what a cancelled payout paid)."""
    action_type: str
    params: dict[str, str]
    attempts: int
    """This attempt's number: the fence that says whether this executor may still record the result."""
    elapsed_s: float
    """Seconds since the first attempt began, when this one was claimed."""
    trace: dict[str, Any]
    source: Source


_CLAIM = """
WITH busy AS (
    SELECT * FROM unnest($1::text[], $2::int[]) AS b (tenant_id, running)
), due AS (
    SELECT d.tenant_id, $3::int - coalesce(b.running, 0) AS free
    FROM (SELECT DISTINCT tenant_id FROM act_actions
          WHERE status IN ('pending', 'running') AND due_at <= now()) AS d
    LEFT JOIN busy AS b USING (tenant_id)
    WHERE $3::int - coalesce(b.running, 0) > 0
), candidates AS (
    SELECT c.action_id, c.due_at FROM due CROSS JOIN LATERAL (
        SELECT a.action_id, a.due_at FROM act_actions AS a
        WHERE a.tenant_id = due.tenant_id AND a.status IN ('pending', 'running') AND a.due_at <= now()
        ORDER BY a.due_at LIMIT due.free
    ) AS c
    ORDER BY c.due_at LIMIT $4
)
UPDATE act_actions AS a
SET status = 'running', attempts = a.attempts + 1, due_at = now() + make_interval(secs => $5),
    first_attempt_at = coalesce(a.first_attempt_at, now())
FROM candidates AS c, act_decisions AS d
WHERE a.action_id = c.action_id AND d.decision_id = a.decision_id
  AND a.status IN ('pending', 'running') AND a.due_at <= now()
RETURNING a.action_id, a.decision_id, a.tenant_id, d.event_id, d.occurred_at, a.position, a.kind, a.compensates,
    (SELECT o.action_type FROM act_actions AS o WHERE o.action_id = a.compensates) AS compensates_type,
    (SELECT o.external_ref FROM act_actions AS o WHERE o.action_id = a.compensates) AS compensates_ref,
    (SELECT o.params FROM act_actions AS o WHERE o.action_id = a.compensates) AS compensates_params,
    a.action_type, a.params, a.attempts,
    extract(epoch FROM now() - coalesce(a.first_attempt_at, now()))::float8 AS elapsed_s,
    d.trace, d.source_topic, d.source_partition, d.source_offset, d.source_key, d.source_value
"""


class ActStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def enqueue(self, decisions: Sequence[tuple[DecisionPlan, Source]]) -> set[str]:
        """Take decisions into the inbox; returns the ids of the actions this call added (the others were there).

        Each decision's first new action becomes due now; the others wait for the one before.
        """
        actions = [(p, a) for p, _ in decisions for a in p.actions]
        if not actions:
            return set()
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO act_decisions (decision_id, tenant_id, event_id, occurred_at, source_topic,"
                " source_partition, source_offset, source_key, source_value, trace)"
                " SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[],"
                " $6::int[], $7::bigint[], $8::bytea[], $9::bytea[], $10::jsonb[])"
                " ON CONFLICT (decision_id) DO NOTHING",
                [p.decision_id for p, _ in decisions],
                [p.tenant_id for p, _ in decisions],
                [p.event_id for p, _ in decisions],
                [p.occurred_at for p, _ in decisions],
                [s.topic for _, s in decisions],
                [s.partition for _, s in decisions],
                [s.offset for _, s in decisions],
                [s.key for _, s in decisions],
                [s.value for _, s in decisions],
                [json.dumps(dict(s.trace)) for _, s in decisions],
            )
            inserted = await conn.fetch(
                "INSERT INTO act_actions (action_id, decision_id, tenant_id, position, kind, action_type, params,"
                " compensation, status)"
                " SELECT u.action_id, u.decision_id, u.tenant_id, u.position, 'action', u.t, u.p, u.c, 'waiting'"
                " FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[], $6::jsonb[], $7::jsonb[])"
                " AS u (action_id, decision_id, tenant_id, position, t, p, c)"
                " ON CONFLICT (action_id) DO NOTHING RETURNING action_id, decision_id, position",
                [a.action_id for _, a in actions],
                [p.decision_id for p, _ in actions],
                [p.tenant_id for p, _ in actions],
                [a.position for _, a in actions],
                [a.action_type for _, a in actions],
                [json.dumps(a.params) for _, a in actions],
                [json.dumps(a.compensation.to_avro()) if a.compensation else None for _, a in actions],
            )
            first: dict[str, tuple[int, str]] = {}
            for row in inserted:
                known = first.get(row["decision_id"])
                if known is None or row["position"] < known[0]:
                    first[row["decision_id"]] = (row["position"], row["action_id"])
            await conn.execute(
                "UPDATE act_actions SET status = 'pending', due_at = now() WHERE action_id = ANY($1::text[])",
                [action_id for _, action_id in first.values()],
            )
        return {row["action_id"] for row in inserted}

    async def claim(
        self, limit: int, tenant_limit: int, running: Mapping[str, int], lease_s: float
    ) -> list[ClaimedAction]:
        """Due actions for this executor: at most `limit`, and per tenant `tenant_limit` minus what it runs."""
        rows = await self._pool.fetch(
            _CLAIM, list(running), list(running.values()), tenant_limit, limit, float(lease_s)
        )
        return [_claimed(row) for row in rows]

    async def succeed(self, action: ClaimedAction, external_ref: str | None, records: Sequence[OutboxRecord]) -> bool:
        """Record success and make the decision's next step due; False when the lease was lost."""
        async with self._pool.acquire() as conn, conn.transaction():
            done = await _fenced(
                conn,
                action,
                "status = 'succeeded', external_ref = $3, error = NULL, due_at = NULL, finished_at = now()",
                external_ref,
            )
            if not done:
                return False
            await _write_outbox(conn, records)
            await _advance(conn, action, saga.after_success)
        return True

    async def retry_later(self, action: ClaimedAction, delay_s: float, error: str) -> bool:
        """Make the action due again in `delay_s`; False when the lease was lost."""
        async with self._pool.acquire() as conn:
            return await _fenced(
                conn,
                action,
                "status = 'pending', due_at = now() + make_interval(secs => $3), error = $4",
                delay_s,
                error,
            )

    async def release(self, action: ClaimedAction) -> bool:
        """Hand a claimed action back (shutdown): due again now, performed with the same idempotency key."""
        async with self._pool.acquire() as conn:
            return await _fenced(conn, action, "status = 'pending', due_at = now()")

    async def fail(self, action: ClaimedAction, error: str, records: Sequence[OutboxRecord]) -> bool:
        """Record a permanent failure; for an action, cancel the rest of its decision and start undoing it.

        What is undone and in which order is `aios.act.saga.after_failure`'s: the decision's completed
        actions that declare a compensation, one at a time, latest first; a failed compensation moves on.
        """
        async with self._pool.acquire() as conn, conn.transaction():
            done = await _fenced(
                conn, action, "status = 'failed', error = $3, due_at = NULL, finished_at = now()", error
            )
            if not done:
                return False
            await _write_outbox(conn, records)
            await _advance(conn, action, saga.after_failure)
        return True

    async def publish(self, limit: int, send: Send) -> int:
        """Hand the oldest outbox records to `send`; delete those it sent, mark those it dead-lettered.

        The rows stay locked meanwhile, so instances never publish the same record at once; the
        rows `send` settled neither way stay for the next try. Returns how many were settled.
        """
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT id, topic, key, value, headers FROM act_outbox WHERE dead_lettered_at IS NULL"
                " ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
                limit,
            )
            if not rows:
                return 0
            settled = await send(
                [OutboxRow(r["topic"], r["key"], r["value"], json.loads(r["headers"]), r["id"]) for r in rows]
            )
            await conn.execute("DELETE FROM act_outbox WHERE id = ANY($1::bigint[])", settled.sent)
            await conn.execute(
                "UPDATE act_outbox SET dead_lettered_at = now(), dead_letter_reason = d.reason"
                " FROM unnest($1::bigint[], $2::text[]) AS d (id, reason) WHERE act_outbox.id = d.id",
                list(settled.dead),
                list(settled.dead.values()),
            )
        return len(settled)

    async def pending(self) -> int:
        return int(await self._pool.fetchval("SELECT count(*) FROM act_outbox WHERE dead_lettered_at IS NULL"))

    async def action(self, action_id: str) -> dict[str, Any] | None:
        """One inbox row, for commands and tests."""
        row = await self._pool.fetchrow("SELECT * FROM act_actions WHERE action_id = $1", action_id)
        return None if row is None else dict(row)


async def _fenced(conn: asyncpg.Connection, action: ClaimedAction, assignments: str, *args: object) -> bool:
    """Update the action only if this executor still holds its claim (same attempt, still running).

    `assignments` is one of this module's constant SET clauses, never built from input.
    """
    done = await conn.fetchval(
        f"UPDATE act_actions SET {assignments}"  # noqa: S608
        " WHERE action_id = $1 AND status = 'running' AND attempts = $2 RETURNING true",
        action.action_id,
        action.attempts,
        *args,
    )
    return bool(done)


_STEPS = """
SELECT action_id, kind, position, status, compensation, compensates FROM act_actions WHERE decision_id = $1
"""


async def _advance(
    conn: asyncpg.Connection, action: ClaimedAction, rule: Callable[[Sequence[saga.Step], str], saga.Transition]
) -> None:
    """After `action`'s result (already written): the saga's next steps by `rule`, and its new state.

    The decision's row is locked first, so two results of one decision never advance it at once.
    """
    await conn.execute("SELECT 1 FROM act_decisions WHERE decision_id = $1 FOR UPDATE", action.decision_id)
    rows = await conn.fetch(_STEPS, action.decision_id)
    steps = [
        saga.Step(
            r["action_id"], r["kind"], r["position"], r["status"], r["compensation"] is not None, r["compensates"]
        )
        for r in rows
    ]
    transition = rule(steps, action.action_id)
    declared = {r["action_id"]: json.loads(r["compensation"]) for r in rows if r["compensation"] is not None}
    positions = {step.action_id: step.position for step in steps}
    await conn.executemany(
        "INSERT INTO act_actions (action_id, decision_id, tenant_id, position, kind, compensates, action_type,"
        " params, status) VALUES ($1, $2, $3, $4, 'compensation', $5, $6, $7::jsonb, 'waiting')"
        " ON CONFLICT (action_id) DO NOTHING",
        [
            (
                compensation_id_for(undone),
                action.decision_id,
                action.tenant_id,
                positions[undone],
                undone,
                declared[undone]["type"],
                json.dumps(declared[undone]["params"]),
            )
            for undone in transition.compensate
        ],
    )
    await conn.execute(
        "UPDATE act_actions SET status = 'cancelled', finished_at = now()"
        " WHERE action_id = ANY($1::text[]) AND status = 'waiting'",
        list(transition.cancel),
    )
    if transition.compensated is not None:
        await conn.execute("UPDATE act_actions SET status = 'compensated' WHERE action_id = $1", transition.compensated)
    if transition.start is not None:
        await conn.execute(
            "UPDATE act_actions SET status = 'pending', due_at = now() WHERE action_id = $1 AND status = 'waiting'",
            transition.start,
        )
    await conn.execute(
        "UPDATE act_decisions SET saga_state = $2 WHERE decision_id = $1",
        action.decision_id,
        saga.saga_state(saga.apply(steps, transition)),
    )


async def _write_outbox(conn: asyncpg.Connection, records: Sequence[OutboxRecord]) -> None:
    await conn.executemany(
        "INSERT INTO act_outbox (topic, key, value, headers) VALUES ($1, $2, $3, $4::jsonb)",
        [(r.topic, r.key, r.value, json.dumps(dict(r.headers))) for r in records],
    )


def _claimed(row: asyncpg.Record) -> ClaimedAction:
    trace = json.loads(row["trace"])
    return ClaimedAction(
        action_id=row["action_id"],
        decision_id=row["decision_id"],
        tenant_id=row["tenant_id"],
        event_id=row["event_id"],
        occurred_at=row["occurred_at"],
        position=row["position"],
        kind=row["kind"],
        compensates=row["compensates"],
        compensates_type=row["compensates_type"],
        compensates_ref=row["compensates_ref"],
        compensates_params=None if row["compensates_params"] is None else json.loads(row["compensates_params"]),
        action_type=row["action_type"],
        params=json.loads(row["params"]),
        attempts=row["attempts"],
        elapsed_s=row["elapsed_s"],
        trace=trace,
        source=Source(
            row["source_topic"],
            row["source_partition"],
            row["source_offset"],
            row["source_key"],
            row["source_value"],
            trace,
        ),
    )
