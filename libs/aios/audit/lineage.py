"""An event's lineage from its audit rows (pure): every step in order, and what a regulator asks for.

Which source sent it, with which schemas; which model version under which alias classified it
and how confident it was; which documents were retrieved and which generator drafted the reply;
which policy version and rule decided; who reviewed it and what they said; which actions ran
and how they ended; and the trace ids that tie it to the services' spans. For a document: its
hash and pages, the extractor version, every field with its value, confidence and the reviewer's
correction, the checks, the reference-data revision the decision used and the payouts' references.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from aios.audit.records import iso_ms
from aios.kafka import topics

RECEIVED = topics.EVENTS_RECEIVED.name
STAGES = {
    topics.DOCUMENTS_RECEIVED.name: "document_received",
    topics.DOCUMENTS_EXTRACTED.name: "extracted",
    RECEIVED: "received",
    topics.EVENTS_CLASSIFIED.name: "classified",
    topics.EVENTS_ENRICHED.name: "enriched",
    topics.REVIEW_REQUESTED.name: "review_requested",
    topics.REVIEW_COMPLETED.name: "reviewed",
    topics.DECISIONS.name: "decided",
    topics.ACTIONS_EXECUTED.name: "acted",
    topics.DEADLETTER.name: "dead_lettered",
}
"""Catalogue topic → the stage an event reached when a record of it appeared there, in pipeline order."""
_ORDER = {stage: rank for rank, stage in enumerate(STAGES.values())}
_ACTION_SUMMARY = ("action_id", "action_type", "status", "attempts", "external_ref")


def stage_of(record_type: str) -> str:
    return STAGES.get(record_type, record_type)


def stages_reached(record_types: Iterable[str]) -> list[str]:
    """The distinct stages, in pipeline order."""
    return sorted({stage_of(t) for t in record_types}, key=lambda s: _ORDER.get(s, len(_ORDER)))


def _facts(record_type: str, record: Mapping[str, Any]) -> dict[str, Any]:
    """What this step says about the event (the whole redacted record stays in `record`)."""
    if record_type in (topics.DOCUMENTS_RECEIVED.name, topics.DOCUMENTS_EXTRACTED.name):
        return _document_step(record_type, record)
    if record_type == topics.EVENTS_RECEIVED.name:
        return {k: record.get(k) for k in ("source", "source_ref", "type", "received_at", "text")}
    if record_type == topics.EVENTS_CLASSIFIED.name:
        return _model(record.get("classification") or {}) | {"shadow": _model(record.get("shadow") or {}) or None}
    if record_type == topics.EVENTS_ENRICHED.name:
        draft = record.get("draft") or {}
        return {
            "documents": [
                {k: p.get(k) for k in ("document_id", "chunk_id", "title", "score")} for p in record.get("passages", [])
            ],
            "generator": draft.get("generator"),
            "generator_version": draft.get("generator_version"),
            "citations": draft.get("citations", []),
            "draft_skipped": record.get("draft_skipped"),
            "pii_found": record.get("pii_found", []),
        }
    if record_type == topics.REVIEW_REQUESTED.name:
        return {k: record.get(k) for k in ("review_id", "reason", "priority", "sla_deadline", "policy")}
    if record_type == topics.REVIEW_COMPLETED.name:
        keys = ("review_id", "reviewer", "verdict", "corrected_label", "reason", "corrected_fields")
        return {k: record.get(k) for k in keys} | {"line_items": len(record.get("line_items") or [])}
    if record_type == topics.DECISIONS.name:
        return {
            **{k: record.get(k) for k in ("decision_id", "outcome", "reason", "label", "confidence", "reviewer")},
            "policy": record.get("policy"),
            "refdata_revision": record.get("refdata_revision"),
            "actions": [{"action_id": a.get("action_id"), "type": a.get("type")} for a in record.get("actions", [])],
        }
    if record_type == topics.ACTIONS_EXECUTED.name:
        keys = ("action_id", "action_type", "status", "attempts", "external_ref", "error")
        return {k: record.get(k) for k in keys}
    if record_type == topics.DEADLETTER.name:
        return {k: record.get(k) for k in ("service", "error_kind", "reason", "original_topic")}
    return {}


def _document_step(record_type: str, record: Mapping[str, Any]) -> dict[str, Any]:
    """What was stored (received), or what was read (extracted)."""
    if record_type == topics.DOCUMENTS_RECEIVED.name:
        document = record.get("document") or {}
        return {
            **{k: document.get(k) for k in ("sha256", "media_type", "size_bytes", "pages")},
            **{k: record.get(k) for k in ("declared_type", "source", "source_ref")},
        }
    return {
        **{k: record.get(k) for k in ("document_type", "extractor_version", "ocr_engine", "duplicate_of")},
        "fields": {
            name: {"value": read.get("normalized"), "confidence": read.get("confidence"), "page": read.get("page")}
            for name, read in (record.get("fields") or {}).items()
        },
        "line_items": len(record.get("line_items") or []),
        "checks": [{k: c.get(k) for k in ("name", "passed", "detail")} for c in record.get("checks") or []],
        "review_reason": record.get("review_reason"),
    }


def _model(classification: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("model_name", "model_version", "model_alias", "backend", "label", "confidence", "oos")
    return {k: classification[k] for k in keys if k in classification}


def lineage(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Audit rows of one event (any order) → its lineage: steps by record time, and a summary."""
    steps = []
    for row in sorted(
        rows, key=lambda r: (r["record_time"], _ORDER.get(stage_of(r["record_type"]), 99), r["chain_seq"])
    ):
        record = json.loads(row["record"])
        record_time: datetime = row["record_time"]
        steps.append(
            {
                "stage": stage_of(row["record_type"]),
                "record_type": row["record_type"],
                "topic": row["topic"],
                "partition": row["partition"],
                "offset": row["offset"],
                "record_time": iso_ms(record_time),
                "schema_id": row["schema_id"],
                "trace_id": row["trace_id"],
                "chain_seq": row["chain_seq"],
                "facts": _facts(row["record_type"], record),
                "record": record,
            }
        )
    if not steps:
        return {}
    return {
        "event_id": steps[0]["record"].get("event_id"),
        "tenant_id": steps[0]["record"].get("tenant_id"),
        "stages": stages_reached(step["record_type"] for step in steps),
        "summary": _summary(steps),
        "steps": steps,
    }


def _summary(steps: list[dict[str, Any]]) -> dict[str, Any]:
    def last(stage: str) -> dict[str, Any]:
        found = [s["facts"] for s in steps if s["stage"] == stage]
        return found[-1] if found else {}

    received, classified, enriched = last("received"), last("classified"), last("enriched")
    decided, reviewed = last("decided"), last("reviewed")
    acted = [s["facts"] for s in steps if s["stage"] == "acted"]
    return {
        "source": received.get("source"),
        "document": _document(last("document_received"), last("extracted"), reviewed),
        "schema_ids": {s["record_type"]: s["schema_id"] for s in steps},
        "model": {k: classified.get(k) for k in ("model_name", "model_version", "model_alias", "confidence")}
        if classified
        else None,
        "documents": [d.get("document_id") for d in enriched.get("documents", [])],
        "draft_generator": (
            f"{enriched['generator']} {enriched.get('generator_version') or ''}".strip()
            if enriched.get("generator")
            else None
        ),
        "policy": decided.get("policy"),
        "refdata_revision": decided.get("refdata_revision"),
        "outcome": decided.get("outcome"),
        "review": {"reviewer": reviewed.get("reviewer"), "verdict": reviewed.get("verdict")} if reviewed else None,
        "actions": [{k: a[k] for k in _ACTION_SUMMARY} for a in acted],
        "payouts": [
            a["external_ref"]
            for a in acted
            if str(a["action_type"]).startswith("payment.") and a["status"] == "SUCCEEDED" and a["external_ref"]
        ],
        "trace_ids": sorted({s["trace_id"] for s in steps if s["trace_id"]}),
    }


def _document(received: Mapping[str, Any], extracted: Mapping[str, Any], reviewed: Mapping[str, Any]) -> Any:
    """The document behind the event: what was stored, what was read, and what the reviewer changed."""
    if not received and not extracted:
        return None
    corrected = reviewed.get("corrected_fields") or {}
    return {
        **{k: received.get(k) for k in ("sha256", "media_type", "pages")},
        "extractor_version": extracted.get("extractor_version"),
        "fields": {
            name: read | ({"corrected": corrected[name]} if name in corrected else {})
            for name, read in (extracted.get("fields") or {}).items()
        },
        "checks_failed": [c["name"] for c in extracted.get("checks") or [] if c.get("passed") is False],
        "duplicate_of": extracted.get("duplicate_of"),
    }
