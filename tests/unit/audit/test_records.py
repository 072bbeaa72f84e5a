"""Audit entries: redacted free text, identifiers kept, bytes as digests, times in milliseconds."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from aios.audit.records import UNKNOWN_TENANT, entry_for, trace_id
from aios.bench.lineage import TEXT, TRACE_ID, event_records
from aios.kafka.records import InputRecord
from aios.pii import KINDS


def consumed(value: dict, topic: str = "aios.events.received") -> InputRecord:
    return InputRecord(
        topic=topic,
        partition=2,
        offset=41,
        key=None,
        value=value,
        headers=[],
        trace={},
        schema_id=5,
        timestamp_ms=1767268800123,
    )


def test_free_text_is_redacted_and_identifiers_kept() -> None:
    records = event_records("acme")
    entry = entry_for(consumed(records["aios.events.received"]), "aios.events.received")
    content = json.loads(entry.record)
    assert TEXT not in entry.record and "jane.doe@example.com" not in entry.record
    assert content["text"] == "I was charged twice, write to [EMAIL] or call [PHONE]"
    assert content["_redacted"] == ["email", "phone"]
    assert content["event_id"] == entry.event_id == records["aios.events.received"]["event_id"]
    assert (entry.tenant_id, entry.schema_id, entry.trace_id) == ("acme", 5, TRACE_ID)
    assert entry.record_time == datetime(2026, 1, 1, 12, 0, 0, 123000, tzinfo=UTC)
    assert content["received_at"].endswith("Z") and content["attributes"] == {"customer": "C-1182"}


def test_action_parameters_are_redacted_too() -> None:
    decision = event_records("acme")["aios.decisions"]
    content = json.loads(entry_for(consumed(decision, "aios.decisions"), "aios.decisions").record)
    assert content["actions"][1]["params"] == {"to": "[EMAIL]"}
    assert content["policy"] == {"version": "sha256:policy-v1", "rule": "refund-small"}


def test_dead_letters_keep_digests_of_the_original_bytes_not_the_bytes() -> None:
    value = {
        "event_id": "sha256:abc",
        "tenant_id": "unknown",
        "reason": "undecodable: bad magic byte",
        "original_value": b"jane.doe@example.com wrote this",
        "original_key": None,
    }
    content = json.loads(entry_for(consumed(value, "aios.deadletter"), "aios.deadletter").record)
    assert content["original_value"]["bytes"] == 31 and len(content["original_value"]["sha256"]) == 64
    assert "jane" not in json.dumps(content)


def test_records_without_tenant_or_event_still_get_a_row() -> None:
    entry = entry_for(consumed({"reason": "x"}, "aios.deadletter"), "aios.deadletter")
    assert entry.tenant_id == UNKNOWN_TENANT and entry.event_id == "aios.deadletter:2:41"


def test_trace_ids_come_from_traceparent() -> None:
    assert trace_id({"traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-01"}) == TRACE_ID
    assert trace_id({"traceparent": ""}) is None and trace_id(None) is None
    assert trace_id({"traceparent": "00-" + "0" * 32 + "-00f067aa0ba902b7-01"}) is None


@pytest.mark.parametrize(
    "text", ["card 4111 1111 1111 1111", "iban GB82WEST12345698765432", "call 415-555-2671", "mail a@b.io"]
)
def test_every_kind_of_personal_data_is_redacted_in_any_free_text_field(text: str) -> None:
    value = {"event_id": "e", "tenant_id": "t", "reason": text, "params": {"note": text}}
    content = json.loads(entry_for(consumed(value), "aios.decisions").record)
    assert content["reason"] == content["params"]["note"] != text and "[" in content["reason"]


def test_the_pre_check_covers_every_detector() -> None:
    """records.py skips text with no `@` and fewer than two digits: true of these four detectors only."""
    assert KINDS == ("email", "iban", "card", "phone")
