"""Synthetic `aios.EventReceived` values, as ingest would write them, for benchmarks and tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

SAMPLE_TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def received_value(
    text: str, tenant_id: str, event_type: str = "support.ticket", attributes: dict[str, str] | None = None
) -> dict[str, Any]:
    now = datetime.now(UTC).replace(microsecond=0)
    return {
        "event_id": str(uuid.uuid4()),
        "tenant_id": tenant_id,
        "occurred_at": now,
        "type": event_type,
        "text": text,
        "attributes": dict(attributes or {}),
        "received_at": now,
        "source": "api",
        "source_ref": None,
        "idempotency_key": None,
        "trace": {"traceparent": SAMPLE_TRACEPARENT, "tracestate": None},
    }
