"""A verdict signed before its schema gained fields still verifies when read with the newer schema."""

from __future__ import annotations

from pathlib import Path

import pytest

from aios.kafka.topics import REVIEW_COMPLETED
from aios.keys.errors import SignatureError
from aios.keys.settings import KeySettings
from aios.keys.signing import RecordSigner, RecordVerifier

OLDER_VERDICT = {
    "event_id": "e-1",
    "tenant_id": "acme",
    "occurred_at": 1_700_000_000_000,
    "review_id": "r-1",
    "verdict": "APPROVE",
    "reviewer": "alice",
    "corrected_label": None,
    "edited_draft": None,
    "reason": "",
    "completed_at": 1_700_000_100_000,
    "trace": {"traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01", "tracestate": None},
}


@pytest.fixture
def keys(tmp_path: Path) -> KeySettings:
    return KeySettings(dir=tmp_path)


def test_an_older_verdict_read_with_the_added_fields_as_null_verifies(keys: KeySettings) -> None:
    signed = RecordSigner("review", REVIEW_COMPLETED.name, keys).signed(OLDER_VERDICT)
    as_read_now = {**signed, "corrected_fields": None, "line_items": None}
    RecordVerifier("review", REVIEW_COMPLETED.name, keys).verify(as_read_now)


def test_corrections_are_signed_and_cannot_be_dropped_or_altered(keys: KeySettings) -> None:
    value = {**OLDER_VERDICT, "corrected_fields": {"total": "120.00"}, "line_items": None}
    signed = RecordSigner("review", REVIEW_COMPLETED.name, keys).signed(value)
    verifier = RecordVerifier("review", REVIEW_COMPLETED.name, keys)
    verifier.verify(signed)
    for altered in (
        {**signed, "corrected_fields": {"total": "999.00"}},
        {**signed, "corrected_fields": None},
        {**signed, "line_items": [{"description": "x", "quantity": "1", "unit_price": "1.00", "amount": "1.00"}]},
    ):
        with pytest.raises(SignatureError):
            verifier.verify(altered)
