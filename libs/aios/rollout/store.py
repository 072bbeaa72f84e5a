"""Rollouts in PostgreSQL (migration 0024): where each stands, and the history of its steps and judgements."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import asyncpg

from aios.rollout.errors import RolloutError
from aios.rollout.plan import Plan

Kind = Literal["model", "policy"]
State = Literal["running", "promoted", "rolled_back"]


@dataclass(frozen=True)
class Rollout:
    rollout_id: int
    kind: Kind
    name: str
    version: str
    plan: Plan
    state: State
    step: int
    step_started_at: datetime
    previous: dict[str, Any]
    reason: str | None
    started_at: datetime
    updated_at: datetime

    def as_json(self) -> dict[str, Any]:
        step = self.plan.steps[min(self.step, len(self.plan.steps) - 1)]
        return {
            "rollout_id": self.rollout_id,
            "kind": self.kind,
            "name": self.name,
            "version": self.version,
            "state": self.state,
            "step": self.step,
            "step_name": step.name,
            "share": step.share,
            "steps": [s.name for s in self.plan.steps],
            "step_started_at": self.step_started_at.isoformat(),
            "reason": self.reason,
            "started_at": self.started_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


class RolloutStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def start(self, kind: Kind, name: str, version: str, plan: Plan, previous: dict[str, Any]) -> Rollout:
        """A new running rollout; refused while another of the same model (or tenant's policy) runs."""
        try:
            row = await self._pool.fetchrow(
                "INSERT INTO rollouts (kind, name, version, plan, previous) VALUES ($1, $2, $3, $4::jsonb, $5::jsonb)"
                " RETURNING *",
                kind,
                name,
                version,
                plan.model_dump_json(by_alias=True),
                json.dumps(previous),
            )
        except asyncpg.UniqueViolationError:
            running = await self.running(kind, name)
            raise RolloutError(
                f"a rollout of {kind} {name} is under way (version {running.version if running else '?'}):"
                " let it finish or run it again with that version to resume it"
            ) from None
        return _rollout(row)

    async def running(self, kind: Kind, name: str) -> Rollout | None:
        row = await self._pool.fetchrow(
            "SELECT * FROM rollouts WHERE kind = $1 AND name = $2 AND state = 'running'", kind, name
        )
        return None if row is None else _rollout(row)

    async def get(self, rollout_id: int) -> Rollout:
        row = await self._pool.fetchrow("SELECT * FROM rollouts WHERE rollout_id = $1", rollout_id)
        if row is None:
            raise RolloutError(f"no rollout {rollout_id}")
        return _rollout(row)

    async def recent(self, limit: int = 20) -> list[Rollout]:
        rows = await self._pool.fetch("SELECT * FROM rollouts ORDER BY rollout_id DESC LIMIT $1", limit)
        return [_rollout(row) for row in rows]

    async def advance(self, rollout_id: int, step: int) -> Rollout:
        row = await self._pool.fetchrow(
            "UPDATE rollouts SET step = $2, step_started_at = now(), updated_at = now() WHERE rollout_id = $1"
            " RETURNING *",
            rollout_id,
            step,
        )
        return _rollout(row)

    async def finish(self, rollout_id: int, state: State, reason: str | None) -> Rollout:
        row = await self._pool.fetchrow(
            "UPDATE rollouts SET state = $2, reason = $3, updated_at = now() WHERE rollout_id = $1 RETURNING *",
            rollout_id,
            state,
            reason,
        )
        return _rollout(row)

    async def note(
        self,
        rollout_id: int,
        step: int,
        what: str,
        measurements: dict[str, Any] | None = None,
        reason: str | None = None,
    ) -> int:
        """Append to the history; returns the entry's id."""
        return int(
            await self._pool.fetchval(
                "INSERT INTO rollout_history (rollout_id, step, what, measurements, reason)"
                " VALUES ($1, $2, $3, $4::jsonb, $5) RETURNING id",
                rollout_id,
                step,
                what,
                None if measurements is None else json.dumps(measurements),
                reason,
            )
        )

    async def history(self, rollout_id: int) -> list[dict[str, Any]]:
        rows = await self._pool.fetch(
            "SELECT step, what, measurements, reason, at FROM rollout_history WHERE rollout_id = $1 ORDER BY id",
            rollout_id,
        )
        return [
            {
                "step": row["step"],
                "what": row["what"],
                "measurements": json.loads(row["measurements"]) if row["measurements"] else None,
                "reason": row["reason"],
                "at": row["at"].isoformat(),
            }
            for row in rows
        ]

    async def last_rollbacks(self) -> list[tuple[str, str, datetime]]:
        """(kind, name, when) of the latest rollback of each model and tenant policy."""
        rows = await self._pool.fetch(
            "SELECT kind, name, max(updated_at) AS at FROM rollouts WHERE state = 'rolled_back' GROUP BY kind, name"
        )
        return [(row["kind"], row["name"], row["at"]) for row in rows]


def _rollout(row: asyncpg.Record) -> Rollout:
    def load(value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    return Rollout(
        row["rollout_id"],
        row["kind"],
        row["name"],
        row["version"],
        Plan.model_validate(load(row["plan"])),
        row["state"],
        row["step"],
        row["step_started_at"],
        load(row["previous"]),
        row["reason"],
        row["started_at"],
        row["updated_at"],
    )
