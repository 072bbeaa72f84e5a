"""From a consumed record to the row content of the audit trail (pure).

Values become JSON: timestamps as ISO 8601 (milliseconds, UTC), bytes as their SHA-256 and
length (dead letters carry original records whose content is not redacted), and every free
text string with personal data replaced (`aios.pii`). Identifiers, enums and trace context are
kept as they are; the kinds redacted are listed under `_redacted`.
"""

from __future__ import annotations

import hashlib
import math
import re
from datetime import UTC, datetime
from typing import Any

from aios.audit.chain import AuditEntry
from aios.canonical import canonical_json
from aios.kafka.records import InputRecord
from aios.pii import redact

UNKNOWN_TENANT = "unknown"

_MAY_HOLD_PII = re.compile(r"@|\d\D*\d")
"""Every `aios.pii` detector needs an `@` (email) or at least two digits (IBAN, card, phone): text
without either is left as it is without running them, which makes most fields free."""

KEPT_AS_IS = frozenset(
    {
        "event_id", "tenant_id", "decision_id", "action_id", "review_id", "chunk_id", "document_id",
        "traceparent", "tracestate", "idempotency_key", "source", "source_ref", "type", "action_type",
        "connector", "status", "outcome", "verdict", "label", "corrected_label", "model_name", "model_alias",
        "backend", "generator", "generator_version", "version", "rule", "reviewer", "service", "error_kind",
        "original_topic", "external_ref", "draft_skipped", "pii_found",
    }
)  # fmt: skip
"""Fields that hold identifiers or closed vocabularies, never free text: not scanned for PII."""


def entry_for(record: InputRecord, record_type: str) -> AuditEntry:
    found: set[str] = set()
    content = _json_safe(record.value, None, found)
    if found:
        content["_redacted"] = sorted(found)
    value = record.value
    timestamp = record.timestamp_ms
    return AuditEntry(
        tenant_id=str(value.get("tenant_id") or UNKNOWN_TENANT),
        event_id=str(value.get("event_id") or f"{record.topic}:{record.partition}:{record.offset}"),
        record_type=record_type,
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        record_time=datetime.fromtimestamp(timestamp / 1000, UTC) if timestamp is not None else _now_ms(),
        schema_id=record.schema_id,
        trace_id=trace_id(value.get("trace")) or trace_id(record.trace),
        record=canonical_json(content),
    )


def trace_id(trace: Any) -> str | None:
    """The trace id of a W3C traceparent (`version-traceid-spanid-flags`)."""
    if not isinstance(trace, dict):
        return None
    parts = str(trace.get("traceparent") or "").split("-")
    return parts[1] if len(parts) == 4 and parts[1].strip("0") else None


def iso_ms(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _now_ms() -> datetime:
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _json_safe(value: Any, key: str | None, found: set[str]) -> Any:
    kind = type(value)
    if kind is str:
        if key in KEPT_AS_IS or not _MAY_HOLD_PII.search(value):
            return value
        redaction = redact(value)
        found.update(redaction.found)
        return redaction.text.replace("\x00", "\ufffd")
    if kind is dict:
        return {str(k): _json_safe(v, str(k), found) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [_json_safe(item, key, found) for item in value]
    if value is None or kind is int or kind is bool:
        return value
    if kind is float:
        return value if math.isfinite(value) else str(value)
    if isinstance(value, datetime):
        return iso_ms(value)
    if isinstance(value, bytes):
        return {"sha256": hashlib.sha256(value).hexdigest(), "bytes": len(value)}
    return str(value)
