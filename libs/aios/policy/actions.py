"""Actions a decision carries: their idempotency key and the rendering of their parameters.

`action_id` is the contract with the act service: the same event, position and type always give
the same id, so a decision delivered twice runs each effect once.
"""

from __future__ import annotations

import hashlib

CONNECTORS = ("webhook", "http", "erp", "claims", "payment", "email", "log")
"""The connectors the act service runs (`aios.connectors.builtin`), which action types may name."""


def action_id(event_id: str, index: int, action_type: str) -> str:
    """Idempotency key of the `index`-th action of an event's decision (32 hex characters)."""
    return hashlib.sha256(f"{event_id}:{index}:{action_type}".encode()).hexdigest()[:32]


def connector_of(action_type: str) -> str:
    """`webhook` for `webhook.post`: the connector is what comes before the first dot."""
    return action_type.split(".", 1)[0]
