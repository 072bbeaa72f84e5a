"""Signals across a tenant's documents: the same IBAN on claims of different claimants, a vendor's
IBAN changing, bursts of claims on one insurance policy.

Each decided document leaves its `DocumentMarks` (kept in PostgreSQL by the decide service, in
memory by `aios policy test`); a document's signals compare it with the marks of the documents
received before it. "Before" is (occurred_at, event_id) — a document's occurred_at is when it was
received — so deciding the same document again (a redelivery) gives the same signals.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg

from aios.policy.documents import DocumentFacts, DocumentSignals
from aios.policy.reference import digest, identifier_key, name_key, vendor_match_keys


@dataclass(frozen=True)
class DocumentMarks:
    """What a document is compared on; IBAN and claimant only as digests."""

    event_id: str
    document_type: str
    occurred_at: datetime
    vendor_key: str | None
    iban_digest: str | None
    claimant_digest: str | None
    policy_number: str | None

    @classmethod
    def of(cls, event_id: str, occurred_at: datetime, document: DocumentFacts) -> DocumentMarks:
        iban, claimant, policy = (document.value(n) for n in ("iban", "claimant_name", "policy_number"))
        return cls(
            event_id=event_id,
            document_type=document.document_type,
            occurred_at=occurred_at,
            vendor_key=_vendor_key(document),
            iban_digest=digest(iban) if iban else None,
            claimant_digest=digest(name_key(claimant)) if claimant and name_key(claimant) else None,
            policy_number=identifier_key(policy) if policy else None,
        )

    def before(self, other: DocumentMarks) -> bool:
        return (self.occurred_at, self.event_id) < (other.occurred_at, other.event_id)


def _vendor_key(document: DocumentFacts) -> str | None:
    """The vendor the reference data matched, else the document's own tax id or name."""
    vendor = document.reference.vendor
    if vendor is not None:
        return f"vendor:{vendor.key}"
    keys = vendor_match_keys(document.value("vendor_name"), document.value("vendor_tax_id"))
    return keys[0] if keys else None


def signals_of(
    marks: DocumentMarks, document: DocumentFacts, earlier: Iterable[DocumentMarks], burst_window_s: int
) -> DocumentSignals:
    """The signals of a document given the marks of (at least) the documents before it."""
    before = [other for other in earlier if other.before(marks)]
    claimants: set[str] = set()
    other_iban = False
    burst = 1
    since = marks.occurred_at - timedelta(seconds=burst_window_s)
    for other in before:
        if other.document_type == "claim" and marks.document_type == "claim":
            if marks.iban_digest and other.iban_digest == marks.iban_digest and other.claimant_digest:
                claimants.add(other.claimant_digest)
            if marks.policy_number and other.policy_number == marks.policy_number and other.occurred_at > since:
                burst += 1
        if (
            marks.document_type == "invoice"
            and other.document_type == "invoice"
            and marks.vendor_key
            and other.vendor_key == marks.vendor_key
            and other.iban_digest
            and other.iban_digest != marks.iban_digest
        ):
            other_iban = True
    claimants.discard(marks.claimant_digest or "")
    return DocumentSignals(
        iban_other_claimants=len(claimants) if marks.iban_digest else 0,
        vendor_iban_changed=_iban_changed(marks, document, other_iban),
        claims_on_policy=burst if marks.policy_number and marks.document_type == "claim" else 0,
    )


def _iban_changed(marks: DocumentMarks, document: DocumentFacts, used_another: bool) -> bool:
    if marks.document_type != "invoice" or marks.iban_digest is None or document.iban_on_file:
        return False
    vendor = document.reference.vendor
    return bool(vendor is not None and vendor.ibans) or used_another


class InMemoryDocumentHistory:
    """The marks of one tenant's documents in the order given: enough for a file of sample events."""

    def __init__(self) -> None:
        self._marks: list[DocumentMarks] = []

    def observe(self, marks: DocumentMarks, document: DocumentFacts, burst_window_s: int) -> DocumentSignals:
        signals = signals_of(marks, document, self._marks, burst_window_s)
        self._marks.append(marks)
        return signals


_RECORD = """
INSERT INTO document_facts (tenant_id, event_id, document_type, occurred_at, vendor_key, iban_digest,
                            claimant_digest, policy_number)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (tenant_id, event_id) DO NOTHING
"""

_EARLIER = """
SELECT event_id, document_type, occurred_at, vendor_key, iban_digest, claimant_digest, policy_number
FROM document_facts
WHERE tenant_id = $1 AND (occurred_at, event_id) < ($2, $3) AND document_type = $4
  AND ((iban_digest = $5 AND claimant_digest IS NOT NULL AND claimant_digest IS DISTINCT FROM $6)
       OR (policy_number = $7 AND occurred_at > $8)
       OR (vendor_key = $9 AND iban_digest IS DISTINCT FROM $5 AND iban_digest IS NOT NULL))
"""


class PostgresDocumentHistory:
    """Marks in `document_facts` (migration 0031); the rows a document's signals need, found by index."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def observe(
        self, tenant_id: str, marks: DocumentMarks, document: DocumentFacts, burst_window_s: int
    ) -> DocumentSignals:
        """Record the document's marks (once per event) and compute its signals from the earlier ones."""
        occurred_at = marks.occurred_at.astimezone(UTC)
        await self.pool.execute(
            _RECORD,
            tenant_id,
            marks.event_id,
            marks.document_type,
            occurred_at,
            marks.vendor_key,
            marks.iban_digest,
            marks.claimant_digest,
            marks.policy_number,
        )
        rows = await self.pool.fetch(
            _EARLIER,
            tenant_id,
            occurred_at,
            marks.event_id,
            marks.document_type,
            marks.iban_digest,
            marks.claimant_digest,
            marks.policy_number,
            occurred_at - timedelta(seconds=burst_window_s),
            marks.vendor_key,
        )
        return signals_of(marks, document, (DocumentMarks(**dict(row)) for row in rows), burst_window_s)
