"""The hash chain (pure): how a row's hash is computed and how a chain is checked.

A row's hash is SHA-256 over `prev_hash`, a newline, the canonical JSON of its header (tenant,
position in the chain, event, record type, topic, partition, offset, record time in ms, schema
id, trace id), a newline and its record's canonical JSON. The first row of a chain follows
`GENESIS`; after retention, the first remaining row follows the checkpoint's hash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aios.schemas.timestamps import epoch_ms

GENESIS = "0" * 64


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, UTF-8 characters as they are: one text per value."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


@dataclass(frozen=True)
class AuditEntry:
    """One record, ready to be chained: where it was read and its redacted content as canonical JSON."""

    tenant_id: str
    event_id: str
    record_type: str
    """The catalogue topic whose schema the record carries (its lineage stage)."""
    topic: str
    partition: int
    offset: int
    record_time: datetime
    schema_id: int | None
    trace_id: str | None
    record: str


@dataclass(frozen=True)
class ChainRow(AuditEntry):
    """A row as stored: an entry at its position in its tenant's chain; `id` names it in reports."""

    id: int
    chain_seq: int
    prev_hash: str
    hash: str

    def computed_hash(self) -> str:
        return row_hash(self.prev_hash, self.chain_seq, self)


def row_hash(prev_hash: str, chain_seq: int, entry: AuditEntry) -> str:
    header = canonical_json(
        {
            "tenant_id": entry.tenant_id,
            "chain_seq": chain_seq,
            "event_id": entry.event_id,
            "record_type": entry.record_type,
            "topic": entry.topic,
            "partition": entry.partition,
            "offset": entry.offset,
            "record_time_ms": epoch_ms(entry.record_time),
            "schema_id": entry.schema_id,
            "trace_id": entry.trace_id,
        }
    )
    return hashlib.sha256(f"{prev_hash}\n{header}\n{entry.record}".encode()).hexdigest()


@dataclass(frozen=True)
class Break:
    """The first link of a chain that does not hold."""

    tenant_id: str
    chain_seq: int
    row_id: int | None
    event_id: str | None
    reason: str

    def __str__(self) -> str:
        row = f"row {self.row_id}" if self.row_id is not None else "no row"
        return f"tenant {self.tenant_id}, chain position {self.chain_seq}, {row}, event {self.event_id}: {self.reason}"


def check_chain(
    tenant_id: str, rows: Iterable[ChainRow], anchor: tuple[int, str], head: tuple[int, str] | None
) -> Break | None:
    """The first break of rows (in chain order) that follow `anchor` (position, hash) up to `head`, if any."""
    expected_seq, previous = anchor[0] + 1, anchor[1]
    for row in rows:
        if row.chain_seq != expected_seq:
            return Break(
                tenant_id, row.chain_seq, row.id, row.event_id, f"rows {expected_seq}..{row.chain_seq - 1} are missing"
            )
        if row.prev_hash != previous:
            return Break(tenant_id, row.chain_seq, row.id, row.event_id, "prev_hash is not the hash of the row before")
        if row.computed_hash() != row.hash:
            return Break(tenant_id, row.chain_seq, row.id, row.event_id, "content does not match its hash (altered)")
        expected_seq, previous = expected_seq + 1, row.hash
    if head is not None and (head[0], head[1]) != (expected_seq - 1, previous):
        reason = (
            f"the chain head is at position {head[0]} but the rows end at {expected_seq - 1}"
            if head[0] != expected_seq - 1
            else "the chain head's hash is not the last row's hash"
        )
        return Break(tenant_id, expected_seq, None, None, reason)
    return None
