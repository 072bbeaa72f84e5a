"""Retraining schedules in PostgreSQL (migration 0024): what to retrain, for whom, how often, and how it went."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import asyncpg


@dataclass(frozen=True)
class Schedule:
    name: str
    tenant_id: str
    every_s: int
    arguments: list[str]
    next_run_at: datetime
    last_run_at: datetime | None
    last_result: str | None


class ScheduleStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def set(self, name: str, tenant_id: str, every_s: int, arguments: list[str]) -> Schedule:
        """Retrain `name` for the tenant every `every_s`, the first time as soon as the scheduler looks."""
        row = await self._pool.fetchrow(
            "INSERT INTO retrain_schedules (name, tenant_id, every_s, arguments) VALUES ($1, $2, $3, $4::jsonb)"
            " ON CONFLICT (name, tenant_id) DO UPDATE SET every_s = EXCLUDED.every_s, arguments = EXCLUDED.arguments,"
            " next_run_at = now() RETURNING *",
            name,
            tenant_id,
            every_s,
            json.dumps(arguments),
        )
        return _schedule(row)

    async def claim_due(self) -> list[Schedule]:
        """Schedules whose time has come, moved to their next time in the same statement (one instance runs each)."""
        rows = await self._pool.fetch(
            "UPDATE retrain_schedules AS s SET next_run_at = now() + s.every_s * interval '1 second',"
            " last_run_at = now() WHERE (s.name, s.tenant_id) IN (SELECT name, tenant_id FROM retrain_schedules"
            " WHERE next_run_at <= now() FOR UPDATE SKIP LOCKED) RETURNING s.*"
        )
        return [_schedule(row) for row in rows]

    async def record(self, name: str, tenant_id: str, result: str) -> None:
        await self._pool.execute(
            "UPDATE retrain_schedules SET last_result = $3 WHERE name = $1 AND tenant_id = $2", name, tenant_id, result
        )

    async def all(self) -> list[Schedule]:
        return [_schedule(row) for row in await self._pool.fetch("SELECT * FROM retrain_schedules ORDER BY name")]


def _schedule(row: asyncpg.Record) -> Schedule:
    arguments = row["arguments"]
    return Schedule(
        row["name"],
        row["tenant_id"],
        row["every_s"],
        json.loads(arguments) if isinstance(arguments, str) else list(arguments),
        row["next_run_at"],
        row["last_run_at"],
        row["last_result"],
    )
