"""The hash chain (pure): how a row's link is computed and how a chain is checked.

A row's hash is HMAC-SHA256, under the chain key held outside the database, of `prev_hash`, a
newline, the canonical JSON of its header (tenant, position in the chain, event, record type,
topic, partition, offset, record time in ms, schema id, trace id), a newline and its record's
canonical JSON: whoever can write the tables but lacks the key cannot re-chain an altered row.
The first row of a chain follows `GENESIS`; after retention, the first remaining row follows the
checkpoint's hash. Rows appended before links were keyed carry a plain SHA-256 of the same text;
they are accepted only before a chain's first keyed link (a downgrade after it is a break), and the
signed checkpoints outside the database (`aios.audit.checkpoints`) catch a chain re-hashed whole.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from aios.canonical import canonical_json
from aios.schemas.timestamps import epoch_ms

GENESIS = "0" * 64


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

    def computed_hash(self, key: bytes) -> str:
        return row_hash(key, self.prev_hash, self.chain_seq, self)

    def legacy_hash(self) -> str:
        """The unkeyed SHA-256 link of rows appended before the chain was keyed."""
        return hashlib.sha256(_linked_text(self.prev_hash, self.chain_seq, self)).hexdigest()


def row_hash(key: bytes, prev_hash: str, chain_seq: int, entry: AuditEntry) -> str:
    return hmac.new(key, _linked_text(prev_hash, chain_seq, entry), hashlib.sha256).hexdigest()


def _linked_text(prev_hash: str, chain_seq: int, entry: AuditEntry) -> bytes:
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
    return f"{prev_hash}\n{header}\n{entry.record}".encode()


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


@dataclass
class ChainCheck:
    """Checks a chain slice by slice (`check`), remembering whether a keyed link was seen."""

    key: bytes
    keyed: bool = False

    def check(
        self, tenant_id: str, rows: Iterable[ChainRow], anchor: tuple[int, str], head: tuple[int, str] | None
    ) -> Break | None:
        """The first break of rows (in chain order) that follow `anchor` (position, hash) up to `head`, if any."""
        return _check(self, tenant_id, rows, anchor, head)

    def holds(self, row: ChainRow) -> bool:
        if hmac.compare_digest(row.computed_hash(self.key), row.hash):
            self.keyed = True
            return True
        return not self.keyed and hmac.compare_digest(row.legacy_hash(), row.hash)


def check_chain(
    key: bytes, tenant_id: str, rows: Iterable[ChainRow], anchor: tuple[int, str], head: tuple[int, str] | None
) -> Break | None:
    """The first break of a whole chain (or its prefix) after `anchor`; see `ChainCheck`."""
    return ChainCheck(key).check(tenant_id, rows, anchor, head)


def _check(
    checker: ChainCheck,
    tenant_id: str,
    rows: Iterable[ChainRow],
    anchor: tuple[int, str],
    head: tuple[int, str] | None,
) -> Break | None:
    expected_seq, previous = anchor[0] + 1, anchor[1]
    for row in rows:
        if row.chain_seq != expected_seq:
            return Break(
                tenant_id, row.chain_seq, row.id, row.event_id, f"rows {expected_seq}..{row.chain_seq - 1} are missing"
            )
        if row.prev_hash != previous:
            return Break(tenant_id, row.chain_seq, row.id, row.event_id, "prev_hash is not the hash of the row before")
        if not checker.holds(row):
            return Break(
                tenant_id, row.chain_seq, row.id, row.event_id, "content does not match its keyed hash (altered)"
            )
        expected_seq, previous = expected_seq + 1, row.hash
    if head is not None and (head[0], head[1]) != (expected_seq - 1, previous):
        reason = (
            f"the chain head is at position {head[0]} but the rows end at {expected_seq - 1}"
            if head[0] != expected_seq - 1
            else "the chain head's hash is not the last row's hash"
        )
        return Break(tenant_id, expected_seq, None, None, reason)
    return None
