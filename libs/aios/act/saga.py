"""A decision's actions as a saga: which step runs next, and what a permanent failure undoes (pure).

The steps of a decision run one at a time in their order. When one fails for good, the steps not
yet run are cancelled and the completed ones that declare a compensation are undone, latest
first, one at a time; a compensation that fails for good is recorded and the next one still runs.
The store (`aios.act.store`) reads a decision's steps, asks this module, and writes the answer in
the same transaction as the result that caused it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from aios.act.plan import compensation_id_for

StepKind = Literal["action", "compensation"]
StepStatus = Literal["waiting", "pending", "running", "succeeded", "failed", "compensated", "cancelled"]
SagaState = Literal["running", "completed", "failed", "compensating", "compensated", "compensation_failed"]
"""running: steps left; completed: every step succeeded; failed: a step failed and nothing needed undoing;
compensating: undoing; compensated: everything undone; compensation_failed: an undoing failed for good."""

UNFINISHED: frozenset[str] = frozenset({"waiting", "pending", "running"})


@dataclass(frozen=True)
class Step:
    action_id: str
    kind: StepKind
    position: int
    status: StepStatus
    compensable: bool = False
    """An action that declares the action undoing it."""
    compensates: str | None = None
    """A compensation: the action it undoes."""


@dataclass(frozen=True)
class Transition:
    """What to write after a step's result."""

    start: str | None = None
    """The step to make due now."""
    cancel: tuple[str, ...] = ()
    """Actions that will never run."""
    compensate: tuple[str, ...] = ()
    """Completed actions to undo, in the order their compensations run (latest first)."""
    compensated: str | None = None
    """The action a succeeded compensation has undone."""


def _find(steps: Sequence[Step], action_id: str) -> Step:
    for step in steps:
        if step.action_id == action_id:
            return step
    raise KeyError(f"step {action_id} is not in the saga")


def _next_compensation(steps: Sequence[Step], exclude: str) -> str | None:
    waiting = [s for s in steps if s.kind == "compensation" and s.status == "waiting" and s.action_id != exclude]
    return max(waiting, key=lambda s: s.position).action_id if waiting else None


def after_success(steps: Sequence[Step], done: str) -> Transition:
    """Step `done` succeeded: the next action runs, or (a compensation) the next compensation."""
    step = _find(steps, done)
    if step.kind == "compensation":
        return Transition(start=_next_compensation(steps, done), compensated=step.compensates)
    later = [s for s in steps if s.kind == "action" and s.status == "waiting" and s.position > step.position]
    return Transition(start=min(later, key=lambda s: s.position).action_id if later else None)


def after_failure(steps: Sequence[Step], failed: str) -> Transition:
    """Step `failed` failed for good: cancel what has not run, undo what has, latest first."""
    step = _find(steps, failed)
    if step.kind == "compensation":
        return Transition(start=_next_compensation(steps, failed))
    cancel = tuple(s.action_id for s in steps if s.kind == "action" and s.status == "waiting")
    undo = sorted(
        (s for s in steps if s.kind == "action" and s.status == "succeeded" and s.compensable),
        key=lambda s: s.position,
        reverse=True,
    )
    compensate = tuple(s.action_id for s in undo)
    return Transition(
        start=compensation_id_for(compensate[0]) if compensate else None, cancel=cancel, compensate=compensate
    )


def saga_state(steps: Sequence[Step]) -> SagaState:
    """Where the saga stands, from its steps' statuses."""
    actions = [s for s in steps if s.kind == "action"]
    compensations = [s for s in steps if s.kind == "compensation"]
    if not any(s.status == "failed" for s in actions):
        return "running" if any(s.status in UNFINISHED for s in actions) else "completed"
    if any(s.status in UNFINISHED for s in compensations):
        return "compensating"
    if any(s.status == "failed" for s in compensations):
        return "compensation_failed"
    return "compensated" if compensations else "failed"


def with_status(steps: Sequence[Step], action_id: str, status: StepStatus) -> tuple[Step, ...]:
    """`steps` with one step's status changed (the result that was just recorded)."""
    return tuple(replace(s, status=status) if s.action_id == action_id else s for s in steps)


def apply(steps: Sequence[Step], transition: Transition) -> tuple[Step, ...]:
    """The steps once `transition` is written: what the store does to the rows, for the saga's new state."""
    by_id = {s.action_id: s for s in steps}
    for action_id in transition.compensate:
        undone = by_id[action_id]
        compensation_id = compensation_id_for(action_id)
        by_id.setdefault(
            compensation_id,
            Step(compensation_id, "compensation", undone.position, "waiting", compensates=action_id),
        )
    for action_id in transition.cancel:
        by_id[action_id] = replace(by_id[action_id], status="cancelled")
    if transition.compensated is not None:
        by_id[transition.compensated] = replace(by_id[transition.compensated], status="compensated")
    if transition.start is not None:
        by_id[transition.start] = replace(by_id[transition.start], status="pending")
    return tuple(by_id.values())
