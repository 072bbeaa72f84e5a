"""The hash chain: every field is covered, and checking names the first link that does not hold."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from aios.audit.chain import GENESIS, AuditEntry, ChainRow, canonical_json, check_chain, row_hash

KEY = b"k" * 32


def chain(count: int, tenant: str = "t-1", key: bytes | None = KEY) -> list[ChainRow]:
    """`count` linked rows, keyed with `key` (None: the unkeyed links of rows from before keying)."""
    rows, previous = [], GENESIS
    for seq in range(1, count + 1):
        entry = AuditEntry(
            tenant_id=tenant,
            event_id=f"e-{seq}",
            record_type="aios.decisions",
            topic="aios.decisions",
            partition=seq % 3,
            offset=100 + seq,
            record_time=datetime(2026, 1, 1, 12, 0, seq, 123000, tzinfo=UTC),
            schema_id=7,
            trace_id="4bf92f3577b34da6a3ce929d0e0e4736",
            record=canonical_json({"event_id": f"e-{seq}", "text": "hello"}),
        )
        row = ChainRow(**vars(entry), id=1000 + seq, chain_seq=seq, prev_hash=previous, hash="")
        digest = row_hash(key, previous, seq, entry) if key else row.legacy_hash()
        rows.append(dataclasses.replace(row, hash=digest))
        previous = digest
    return rows


def head(rows: list[ChainRow]) -> tuple[int, str]:
    return rows[-1].chain_seq, rows[-1].hash


def test_canonical_json_is_one_text_per_value() -> None:
    assert canonical_json({"b": 1, "a": [1.5, "é"]}) == '{"a":[1.5,"é"],"b":1}'
    with pytest.raises(ValueError, match="Out of range float"):
        canonical_json({"x": float("nan")})


def test_an_intact_chain_verifies() -> None:
    rows = chain(5)
    assert check_chain(KEY, "t-1", rows, (0, GENESIS), head(rows)) is None


@pytest.mark.parametrize(
    "change",
    [
        {"record": canonical_json({"event_id": "e-3", "text": "goodbye"})},
        {"event_id": "e-other"},
        {"offset": 999},
        {"schema_id": 8},
        {"trace_id": None},
        {"record_time": datetime(2026, 1, 1, 12, 0, 3, 124000, tzinfo=UTC)},
        {"record_type": "aios.actions.executed"},
    ],
)
def test_altering_any_field_of_a_row_names_that_row(change: dict) -> None:
    rows = chain(5)
    rows[2] = dataclasses.replace(rows[2], **change)
    broken = check_chain(KEY, "t-1", rows, (0, GENESIS), head(rows))
    assert broken is not None and (broken.row_id, broken.chain_seq, broken.tenant_id) == (1003, 3, "t-1")
    assert "altered" in broken.reason
    assert str(broken).startswith("tenant t-1, chain position 3, row 1003, event ")


def test_a_row_rehashed_after_altering_breaks_the_next_link() -> None:
    rows = chain(5)
    altered = dataclasses.replace(rows[2], record=canonical_json({"text": "forged"}))
    rows[2] = dataclasses.replace(altered, hash=altered.computed_hash(KEY))
    broken = check_chain(KEY, "t-1", rows, (0, GENESIS), head(rows))
    assert broken is not None and broken.row_id == 1004 and "prev_hash" in broken.reason


def test_a_removed_row_is_reported_as_missing() -> None:
    rows = chain(5)
    del rows[1]
    broken = check_chain(KEY, "t-1", rows, (0, GENESIS), head(rows))
    assert broken is not None and broken.row_id == 1003 and "rows 2..2 are missing" in broken.reason


def test_removed_last_rows_are_caught_by_the_head() -> None:
    rows = chain(5)
    broken = check_chain(KEY, "t-1", rows[:3], (0, GENESIS), head(rows))
    assert broken is not None and broken.row_id is None and "head is at position 5" in broken.reason


def test_a_shortened_chain_verifies_from_its_checkpoint() -> None:
    rows = chain(6)
    checkpoint = (rows[2].chain_seq, rows[2].hash)
    assert check_chain(KEY, "t-1", rows[3:], checkpoint, head(rows)) is None
    assert check_chain(KEY, "t-1", rows[3:], (0, GENESIS), head(rows)) is not None


def test_a_row_altered_and_rechained_without_the_key_is_named() -> None:
    """Whoever can write the table but lacks the key re-chains with another key: the first such row is named."""
    rows = chain(5)
    altered = rows[:2] + chain(5, key=b"x" * 32)[2:]
    altered[2] = dataclasses.replace(altered[2], prev_hash=rows[1].hash)
    broken = check_chain(KEY, "t-1", altered, (0, GENESIS), head(altered))
    assert broken is not None and (broken.chain_seq, broken.row_id) == (3, 1003) and "altered" in broken.reason


def test_unkeyed_rows_from_before_keying_verify_but_not_after_a_keyed_link() -> None:
    legacy = chain(4, key=None)
    assert check_chain(KEY, "t-1", legacy, (0, GENESIS), head(legacy)) is None
    rows = chain(2)
    for row in chain(4, key=None)[2:]:  # re-hashed without a key after keyed links: a downgrade
        relinked = dataclasses.replace(row, prev_hash=rows[-1].hash)
        rows.append(dataclasses.replace(relinked, hash=relinked.legacy_hash()))
    broken = check_chain(KEY, "t-1", rows, (0, GENESIS), head(rows))
    assert broken is not None and broken.chain_seq == 3 and "altered" in broken.reason
