"""What decide knows of a document event before it applies policy: what extract read (fields with
confidences, checks, duplicate), what the tenant's reference data says, and signals across the
tenant's earlier documents.

Read from PostgreSQL: extract records a document's reading before it sends the event on, so the
reading is there when decide sees the event. The pool is opened on first use, on the agents' loop.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

import asyncpg

from aios.db.pool import create_pool
from aios.extract.index import DocumentIndex
from aios.policy.documents import DocumentFacts, FieldRead
from aios.policy.history import DocumentMarks, PostgresDocumentHistory
from aios.refdata.store import RefdataStore
from aios.schemas.records import EventEnriched

DOCUMENT_TYPE_PREFIX = "document."
FIELD_ATTRIBUTE = "field_"


def is_document(event: EventEnriched) -> bool:
    return event.type.startswith(DOCUMENT_TYPE_PREFIX)


class DocumentSource(Protocol):
    async def facts(self, event: EventEnriched, burst_window_s: int) -> DocumentFacts:
        """The document facts of a document event (`is_document`)."""


class PostgresDocuments:
    def __init__(self, postgres_dsn: str) -> None:
        self.postgres_dsn = postgres_dsn
        self._pool: asyncpg.Pool | None = None

    async def facts(self, event: EventEnriched, burst_window_s: int) -> DocumentFacts:
        pool = await self._opened()
        extraction = await DocumentIndex(pool).extraction(event.tenant_id, event.event_id)
        document = DocumentFacts.from_extraction(extraction) if extraction else read_from_attributes(event)
        document = replace(document, reference=await RefdataStore(pool).match(event.tenant_id, document.values()))
        marks = DocumentMarks.of(event.event_id, event.occurred_at, document)
        signals = await PostgresDocumentHistory(pool).observe(event.tenant_id, marks, document, burst_window_s)
        return replace(document, signals=signals)

    async def _opened(self) -> asyncpg.Pool:
        if self._pool is None:
            self._pool = await create_pool(self.postgres_dsn, min_size=1, max_size=2)
        return self._pool


def read_from_attributes(event: EventEnriched) -> DocumentFacts:
    """A document whose reading is not recorded (it was retained away): its `field_*` attributes, at confidence 0,
    so no confidence test passes on values nobody can vouch for."""
    fields = {
        name.removeprefix(FIELD_ATTRIBUTE): FieldRead(value, 0.0)
        for name, value in event.attributes.items()
        if name.startswith(FIELD_ATTRIBUTE)
    }
    return DocumentFacts(
        document_type=event.type.removeprefix(DOCUMENT_TYPE_PREFIX),
        fields=fields,
        duplicate_of=event.attributes.get("document_duplicate_of"),
    )
