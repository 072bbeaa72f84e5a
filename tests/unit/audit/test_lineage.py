"""Lineage: steps in pipeline order with what each stage says, and the summary an auditor asks for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aios.audit.chain import canonical_json
from aios.audit.lineage import lineage, stages_reached
from aios.audit.records import entry_for
from aios.bench.lineage import TRACE_ID, event_records
from aios.kafka.records import InputRecord


def rows(tenant: str = "acme") -> list[dict]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    found = []
    for seq, (name, value) in enumerate(event_records(tenant).items(), start=1):
        topic = name.split("#")[0]
        entry = entry_for(InputRecord(topic, 0, seq, None, value, [], {}, schema_id=seq, timestamp_ms=None), topic)
        found.append(
            {
                "record_type": topic,
                "topic": topic,
                "partition": 0,
                "offset": seq,
                # Same time for the review steps: the pipeline order breaks the tie.
                "record_time": start + timedelta(seconds=min(seq, 4)),
                "schema_id": seq,
                "trace_id": entry.trace_id,
                "chain_seq": seq,
                "record": entry.record,
            }
        )
    return found


def test_every_stage_in_order_with_the_facts_auditors_ask_for() -> None:
    found = lineage(list(reversed(rows())))
    assert [s["stage"] for s in found["steps"]] == [
        "received", "classified", "enriched", "review_requested", "reviewed", "decided", "acted", "acted",
    ]  # fmt: skip
    summary = found["summary"]
    assert summary["source"] == "webhook:crm"
    assert summary["model"] == {
        "model_name": "intents",
        "model_version": 3,
        "model_alias": "canary",
        "confidence": 0.93,
    }
    assert summary["documents"] == ["refunds", "cards"]
    assert summary["draft_generator"] == "extractive 1.0"
    assert summary["policy"] == {"version": "sha256:policy-v1", "rule": "refund-small"}
    assert summary["review"] == {"reviewer": "rita@acme", "verdict": "EDIT_APPROVE"}
    assert [(a["action_type"], a["status"], a["attempts"]) for a in summary["actions"]] == [
        ("webhook.post", "SUCCEEDED", 1),
        ("email.send", "SUCCEEDED", 2),
    ]
    assert summary["trace_ids"] == [TRACE_ID]
    assert summary["schema_ids"]["aios.decisions"] == 6
    assert found["stages"][-1] == "acted" and found["tenant_id"] == "acme"


def test_no_rows_no_lineage() -> None:
    assert lineage([]) == {}


def test_stages_are_ordered_along_the_pipeline() -> None:
    assert stages_reached(["aios.decisions", "aios.events.received", "aios.decisions", "x.custom"]) == [
        "received",
        "decided",
        "x.custom",
    ]
    assert canonical_json(stages_reached([])) == "[]"


def test_a_document_shows_what_was_stored_read_corrected_checked_decided_and_paid() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    stored = {"sha256": "ab" * 32, "media_type": "application/pdf", "size_bytes": 2048, "pages": 2}
    fields = {
        "iban": {"normalized": "DE89370400440532013000", "confidence": 0.97, "page": 1, "bbox": None},
        "total": {"normalized": "119.00", "confidence": 0.62, "page": 2, "bbox": None},
    }
    records: list[tuple[str, dict[str, Any]]] = [
        ("aios.documents.received", {"document": stored, "declared_type": "invoice", "source": "api"}),
        (
            "aios.documents.extracted",
            {
                "extractor_version": "document-extractor 4",
                "fields": fields,
                "checks": [{"name": "totals_add_up", "passed": False, "detail": "100.00 + 9.00 != 119.00"}],
            },
        ),
        ("aios.review.completed", {"reviewer": "rita", "verdict": "APPROVE", "corrected_fields": {"total": "109.00"}}),
        ("aios.decisions", {"outcome": "AUTO", "policy": {"version": "v9", "rule": "reviewed"}, "refdata_revision": 7}),
        ("aios.actions.executed", {"action_type": "erp.post_invoice", "status": "SUCCEEDED", "external_ref": "p-1"}),
        ("aios.actions.executed", {"action_type": "payment.schedule", "status": "SUCCEEDED", "external_ref": "po_42"}),
    ]
    found = lineage(
        [
            {
                "record_type": topic,
                "topic": topic,
                "partition": 0,
                "offset": seq,
                "record_time": start + timedelta(seconds=seq),
                "schema_id": seq,
                "trace_id": None,
                "chain_seq": seq,
                "record": canonical_json({"event_id": "e-1", "tenant_id": "acme", **record}),
            }
            for seq, (topic, record) in enumerate(records)
        ]
    )
    assert found["stages"][:2] == ["document_received", "extracted"]
    summary = found["summary"]
    assert summary["document"] == {
        "sha256": "ab" * 32,
        "media_type": "application/pdf",
        "pages": 2,
        "extractor_version": "document-extractor 4",
        "fields": {
            "iban": {"value": "DE89370400440532013000", "confidence": 0.97, "page": 1},
            "total": {"value": "119.00", "confidence": 0.62, "page": 2, "corrected": "109.00"},
        },
        "checks_failed": ["totals_add_up"],
        "duplicate_of": None,
    }
    assert summary["refdata_revision"] == 7 and summary["policy"] == {"version": "v9", "rule": "reviewed"}
    assert summary["payouts"] == ["po_42"]
    assert lineage(rows())["summary"]["document"] is None
