"""Walking a plan: apply a step, judge it every poll, move on when it held long enough on enough events,
roll back the moment a criterion fails.

Every transition is written to PostgreSQL before the next begins, so a rollout whose process died
resumes at its step (with the step's clock as it was) when started again. A rollback restores what the
rollout found when it started, records the reason in the rollout, its history and the audit trail, and
sets the metric the `AiosRolloutRolledBack` alert watches.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from datetime import UTC, datetime

import asyncpg

from aios.audit.chain import AuditEntry, canonical_json
from aios.audit.store import AuditStore
from aios.observability import metrics
from aios.rollout.criteria import Measurements, judge
from aios.rollout.plan import Step
from aios.rollout.store import Rollout, RolloutStore
from aios.rollout.targets import Target

log = logging.getLogger(__name__)

AUDIT_TENANT = "aios"
"""Audit chain of the platform's own changes (rollouts), beside the tenants' chains."""
AUDIT_TOPIC = "aios.rollouts"

Measure = Callable[[Step, float], Awaitable[Measurements]]
"""The candidate's measurements in `step` since the instant given (Unix seconds)."""
Judged = Callable[[Rollout, Step, Measurements, list[str]], None]


async def walk(
    pool: asyncpg.Pool,
    rollout: Rollout,
    target: Target,
    measure: Measure,
    on_judged: Judged | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> Rollout:
    """Run `rollout` from its current step to promotion or rollback; returns it as it ended."""
    store = RolloutStore(pool)
    plan = rollout.plan
    while rollout.state == "running" and rollout.step < len(plan.steps):
        step = plan.steps[rollout.step]
        await target.apply(step)
        await store.note(rollout.rollout_id, rollout.step, "step", reason=f"{step.name}: share {step.share:g}")
        metrics.ROLLOUT_STEP.labels(rollout.kind, rollout.name, rollout.version).set(rollout.step)
        started = rollout.step_started_at.timestamp()
        while True:
            measured = await measure(step, started)
            failures = judge(plan.criteria, measured)
            await store.note(
                rollout.rollout_id, rollout.step, "judged", measured.as_json(), "; ".join(failures) or None
            )
            if on_judged is not None:
                on_judged(rollout, step, measured, failures)
            if failures:
                return await _roll_back(pool, rollout, target, f"{step.name}: " + "; ".join(failures))
            if time.time() - started >= step.min_duration_s and measured.events >= step.min_events:
                break
            await sleep(plan.poll_interval_s)
        if rollout.step + 1 == len(plan.steps):
            break
        rollout = await store.advance(rollout.rollout_id, rollout.step + 1)
    return await _finish(pool, rollout, "promoted", f"{rollout.version} reached {plan.steps[-1].name}")


async def _roll_back(pool: asyncpg.Pool, rollout: Rollout, target: Target, reason: str) -> Rollout:
    await target.restore(rollout.previous)
    log.error(
        "rollout %s of %s %s:%s rolled back: %s",
        rollout.rollout_id,
        rollout.kind,
        rollout.name,
        rollout.version,
        reason,
    )
    metrics.ROLLOUT_LAST_ROLLBACK.labels(rollout.kind, rollout.name).set(time.time())
    return await _finish(pool, rollout, "rolled_back", reason)


async def _finish(pool: asyncpg.Pool, rollout: Rollout, state: str, reason: str) -> Rollout:
    store = RolloutStore(pool)
    entry = await store.note(rollout.rollout_id, rollout.step, state, reason=reason)
    finished = await store.finish(rollout.rollout_id, "promoted" if state == "promoted" else "rolled_back", reason)
    with suppress(KeyError):
        metrics.ROLLOUT_STEP.remove(rollout.kind, rollout.name, rollout.version)
    await AuditStore(pool).append([_audit_entry(finished, entry, state)])
    return finished


def _audit_entry(rollout: Rollout, history_id: int, what: str) -> AuditEntry:
    """The outcome of a rollout in the platform's audit chain, keyed by its history entry (appended once)."""
    now = datetime.now(UTC)
    return AuditEntry(
        tenant_id=AUDIT_TENANT,
        event_id=f"rollout-{rollout.rollout_id}",
        record_type=f"rollout.{what}",
        topic=AUDIT_TOPIC,
        partition=0,
        offset=history_id,
        record_time=now.replace(microsecond=now.microsecond // 1000 * 1000),
        schema_id=None,
        trace_id=None,
        record=canonical_json(
            {
                "rollout_id": rollout.rollout_id,
                "kind": rollout.kind,
                "name": rollout.name,
                "version": rollout.version,
                "state": rollout.state,
                "step": rollout.step,
                "reason": rollout.reason,
                "restored": rollout.previous if what == "rolled_back" else None,
            }
        ),
    )
