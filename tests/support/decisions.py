"""`aios.Decision` values as decide writes them, for act and audit tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from aios.bench.events import SAMPLE_TRACEPARENT
from aios.policy.actions import action_id

Action = tuple[str, dict[str, str]] | tuple[str, dict[str, str], tuple[str, dict[str, str]] | None]


def decision(
    tenant_id: str, actions: list[Action], *, outcome: str = "AUTO", event_id: str | None = None
) -> dict[str, Any]:
    """A decision for `actions`: (type, params) or (type, params, (compensation type, params))."""
    event_id = event_id or str(uuid.uuid4())
    now = datetime.now(UTC).replace(microsecond=0)
    return {
        "event_id": event_id,
        "tenant_id": tenant_id,
        "occurred_at": now,
        "decision_id": str(uuid.uuid4()),
        "outcome": outcome,
        "reason": "",
        "type": "support.ticket",
        "label": "card_charged_twice",
        "confidence": 0.97,
        "draft": None,
        "actions": [
            {
                "action_id": action_id(event_id, index, action[0]),
                "type": action[0],
                "params": action[1],
                "compensation": (
                    {"type": action[2][0], "params": action[2][1]} if len(action) > 2 and action[2] else None
                ),
            }
            for index, action in enumerate(actions)
        ],
        "policy": {"version": "sha256:policy-v1", "rule": "refund-small"},
        "reviewer": None,
        "decided_at": now,
        "trace": {"traceparent": SAMPLE_TRACEPARENT, "tracestate": None},
    }
