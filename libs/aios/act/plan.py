"""From a decision record to the actions to run, and from a result to the records that report it (pure)."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from aios.act.errors import InvalidDecisionError
from aios.policy.actions import action_id
from aios.schemas.records import ActionExecuted, ActionStatus, Compensation, Decision, TraceContext

log = logging.getLogger(__name__)

RUNNABLE_OUTCOMES = frozenset({"AUTO", "APPROVED"})
"""Outcomes whose actions run; REJECT and REJECTED carry none (the audit trail still records them)."""
ACTION_FAILED = "action-failed"
COMPENSATION_FAILED = "compensation-failed"
"""`error_kind` of the dead letters act writes."""


def compensation_id_for(action_id: str) -> str:
    """The idempotency key of the action that undoes `action_id`."""
    return hashlib.sha256(f"{action_id}:compensate".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class PlannedAction:
    action_id: str
    position: int
    action_type: str
    params: dict[str, str]
    compensation: Compensation | None
    """The action that undoes this one, if it declares one."""


@dataclass(frozen=True)
class DecisionPlan:
    decision_id: str
    tenant_id: str
    event_id: str
    occurred_at: datetime
    actions: tuple[PlannedAction, ...]


def plan(decision: Decision) -> DecisionPlan | None:
    """The decision's actions in order, or None when it runs nothing (rejected, or no actions)."""
    if decision.outcome not in RUNNABLE_OUTCOMES or not decision.actions:
        return None
    planned = []
    for index, action in enumerate(decision.actions):
        if not action.type:
            raise InvalidDecisionError(f"action {index} of decision {decision.decision_id} has no type")
        expected = action_id(decision.event_id, index, action.type)
        carried = action.action_id or expected
        if carried != expected:
            # The carried id is authoritative (it is what decide recorded); a mismatch is worth a look.
            log.warning(
                "decision %s action %d carries id %s, expected %s", decision.decision_id, index, carried, expected
            )
        planned.append(
            PlannedAction(
                action_id=carried,
                position=index,
                action_type=action.type,
                params=dict(action.params),
                compensation=action.compensation,
            )
        )
    return DecisionPlan(
        decision_id=decision.decision_id,
        tenant_id=decision.tenant_id,
        event_id=decision.event_id,
        occurred_at=decision.occurred_at,
        actions=tuple(planned),
    )


def executed_record(  # noqa: PLR0913 -- one keyword per field of the record it builds
    *,
    event_id: str,
    tenant_id: str,
    occurred_at: datetime,
    decision_id: str,
    action_id: str,
    action_type: str,
    status: ActionStatus,
    attempts: int,
    trace: TraceContext,
    external_ref: str | None = None,
    error: str | None = None,
) -> ActionExecuted:
    """An `aios.actions.executed` record."""
    return ActionExecuted(
        event_id=event_id,
        tenant_id=tenant_id,
        occurred_at=occurred_at,
        decision_id=decision_id,
        action_id=action_id,
        action_type=action_type,
        connector=action_type.partition(".")[0],
        status=status,
        attempts=attempts,
        external_ref=external_ref,
        error=error[:4000] if error else None,
        executed_at=datetime.now(UTC),
        trace=trace,
    )


def record_key(tenant_id: str, event_id: str) -> str:
    """Records about one event share a key, so they stay in order on one partition."""
    return f"{tenant_id}:{event_id}"
