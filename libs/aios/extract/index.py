"""Each tenant's extracted documents in PostgreSQL: duplicates found against them, and what `GET /v1/events` shows.

A document repeats an earlier one of its tenant when it has the same bytes, the same content under
other bytes (the extractor's fingerprint of what it read: a scan of a PDF already received), the
same vendor and invoice number, or the same claim number. "Earlier" is by receipt time, so reading
a document again (after a crash) finds the same earlier event and never the document itself.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg


@dataclass(frozen=True)
class DocumentKeys:
    """What duplicates are matched on."""

    sha256: str
    content_fingerprint: str | None
    vendor_key: str | None
    invoice_number: str | None
    claim_number: str | None


@dataclass(frozen=True)
class Duplicate:
    event_id: str
    why: str
    """same_bytes, same_content, same_invoice or same_claim."""


def vendor_key(tax_id: str | None, name: str | None) -> str | None:
    """The vendor as duplicates compare it: its tax id, else its name without case, spaces or punctuation."""
    if tax_id:
        return "tax:" + re.sub(r"[^0-9A-Za-z]", "", tax_id).upper()
    if name:
        folded = re.sub(r"[\W_]+", "", name.casefold())
        return f"name:{folded}" if folded else None
    return None


_EARLIER = """
SELECT event_id,
       CASE WHEN sha256 = $4 THEN 'same_bytes'
            WHEN content_fingerprint = $5 THEN 'same_content'
            WHEN vendor_key = $6 AND invoice_number = $7 THEN 'same_invoice'
            ELSE 'same_claim' END AS why
FROM documents
WHERE tenant_id = $1 AND event_id <> $2 AND (received_at, event_id) < ($3, $2)
  AND (sha256 = $4 OR content_fingerprint = $5 OR (vendor_key = $6 AND invoice_number = $7) OR claim_number = $8)
ORDER BY received_at, event_id
LIMIT 1
"""

_RECORD = """
INSERT INTO documents (tenant_id, event_id, sha256, content_fingerprint, document_type, vendor_key, invoice_number,
                       claim_number, extraction, received_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10)
ON CONFLICT (tenant_id, event_id) DO UPDATE SET extraction = EXCLUDED.extraction, extracted_at = now()
"""


class DocumentIndex:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def earlier_duplicate(
        self, tenant_id: str, event_id: str, received_at: datetime, keys: DocumentKeys
    ) -> Duplicate | None:
        row = await self.pool.fetchrow(
            _EARLIER,
            tenant_id,
            event_id,
            received_at,
            keys.sha256,
            keys.content_fingerprint,
            keys.vendor_key,
            keys.invoice_number,
            keys.claim_number,
        )
        return None if row is None else Duplicate(row["event_id"], row["why"])

    async def record(
        self,
        tenant_id: str,
        event_id: str,
        received_at: datetime,
        document_type: str,
        keys: DocumentKeys,
        extraction: dict[str, Any],
    ) -> None:
        """Keep what was read (a second reading of the same event replaces the first)."""
        await self.pool.execute(
            _RECORD,
            tenant_id,
            event_id,
            keys.sha256,
            keys.content_fingerprint,
            document_type,
            keys.vendor_key,
            keys.invoice_number,
            keys.claim_number,
            json.dumps(extraction),
            received_at,
        )

    async def extraction(self, tenant_id: str, event_id: str) -> dict[str, Any] | None:
        """What was read from the tenant's document `event_id`, or None (not a document, not yet read, not theirs)."""
        found = await self.pool.fetchval(
            "SELECT extraction FROM documents WHERE tenant_id = $1 AND event_id = $2", tenant_id, event_id
        )
        return None if found is None else dict(json.loads(found))
