"""Valid `aios.EventReceived` values for tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any


def event(text: str = "my card was charged twice", tenant: str = "acme", **overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC).replace(microsecond=0)
    return {
        "event_id": str(uuid.uuid4()),
        "tenant_id": tenant,
        "occurred_at": now,
        "type": "support.ticket",
        "text": text,
        "attributes": {},
        "received_at": now,
        "source": "api",
        "source_ref": None,
        "idempotency_key": None,
        "trace": {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "tracestate": None},
        **overrides,
    }
