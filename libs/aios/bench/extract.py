"""Extract benchmark: pages per second through a real `services.extract` process, born-digital and scanned.

Synthetic invoices and claims of every layout (`aios.documents.synthetic`) are stored in the
stack's SeaweedFS and their references produced to a private documents topic; the service reads
each from the object store, extracts it, looks for duplicates in a private database and writes
its two records. Timed from the first document recorded to the last, so starting the service and
its reader process are not counted. The extractor's own timings give p50/p99 per document and
OCR's share of the time.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rich.console import Console

from aios.bench.audit import _count, _drain_time, _produce, _service, _stack_env
from aios.bench.report import stamp, write_section
from aios.db.pool import open_pool
from aios.db.scratch import scratch_database
from aios.documents.synthetic import LAYOUTS, Generated, generate
from aios.ingest.document_files import inspect_file
from aios.kafka import topics
from aios.kafka.scratch import ScratchTopics
from aios.kafka.serde import Codecs
from aios.kafka.tracefield import trace_field
from aios.keys.documents import sealed_store
from aios.objects.store import StoredObject
from aios.observability.tracing import new_trace_carrier
from aios.schemas.records import DocumentReceived, DocumentRef
from aios.settings import ConnectionSettings
from aios.tenants.store import TenantStore


@dataclass(frozen=True)
class ExtractRun:
    kind: str
    documents: int
    pages: int
    seconds: float
    pages_per_s: float
    p50_ms: float
    p99_ms: float
    ocr_share: float


def extract_section(console: Console, connection: ConnectionSettings, born_digital: int, scanned: int) -> None:
    runs = [
        _run(console, connection, "born-digital", born_digital, scanned=False),
        _run(console, connection, "scanned", scanned, scanned=True),
    ]
    report = write_section("extract", markdown(runs, stamp("make bench")))
    console.print(f"wrote {report}")


def _run(console: Console, connection: ConnectionSettings, kind: str, count: int, *, scanned: bool) -> ExtractRun:
    with (
        scratch_database(connection.postgres_dsn.get_secret_value(), "aios_bench") as dsn,
        ScratchTopics(connection.kafka_bootstrap, connection.schema_registry_url, prefix="bench") as scratch,
        console.status(f"extract: {count} {kind} documents"),
    ):
        received = scratch.make(topics.DOCUMENTS_RECEIVED.name, 6)
        extracted = scratch.make(topics.DOCUMENTS_EXTRACTED.name, 6)
        events = scratch.make(topics.EVENTS_RECEIVED.name, 6)
        codecs = Codecs(connection.schema_registry_url, carries=scratch.carries)
        tenant = asyncio.run(_tenant(dsn))
        documents = [generate(900_000 + n, n % LAYOUTS, scanned=scanned) for n in range(count)]
        pages = _produce_references(connection, codecs, received, tenant, asyncio.run(_store(dsn, tenant, documents)))
        process = _service(
            "services.extract",
            {
                **_stack_env(connection, dsn),
                "AIOS_EXTRACT_GROUP_ID": f"bench-extract-{uuid.uuid4().hex[:6]}",
                "AIOS_EXTRACT_METRICS_PORT": "0",
                "AIOS_EXTRACT_INPUT_TOPIC": received,
                "AIOS_EXTRACT_EXTRACTED_TOPIC": extracted,
                "AIOS_EXTRACT_EVENTS_TOPIC": events,
                "AIOS_TRACING_OTLP_ENDPOINT": "",
            },
            "bench-extract.log",
        )
        try:
            first, seconds = _drain_time(_count(dsn, "SELECT count(*) FROM documents"), count, process, 1800)
            timings = asyncio.run(_timings(dsn))
        finally:
            process.terminate()
            process.wait(60)
    # Pages of the documents after the first one recorded, over the time from it to the last.
    measured_pages = pages * (count - first) / count
    per_document = [t.get("total", 0.0) for t in timings]  # the extractor's whole time; reading (and OCR) in it
    ocr = sum(t.get("ocr", 0.0) for t in timings)
    return ExtractRun(
        kind=kind,
        documents=count,
        pages=pages,
        seconds=seconds,
        pages_per_s=measured_pages / seconds if seconds > 0 else float("nan"),
        p50_ms=statistics.median(per_document),
        p99_ms=statistics.quantiles(per_document, n=100)[98] if len(per_document) >= 2 else per_document[0],
        ocr_share=ocr / sum(per_document) if sum(per_document) else 0.0,
    )


def _produce_references(
    connection: ConnectionSettings,
    codecs: Codecs,
    topic: str,
    tenant_id: str,
    documents: list[tuple[Generated, StoredObject]],
) -> int:
    """Produce the stored documents' references. Returns their pages."""
    records: list[tuple[str, dict[str, object]]] = []
    pages = 0
    for document, stored in documents:
        page_count = _pages(document.data, document.media_type)
        pages += page_count
        now = datetime.now(UTC)
        reference = DocumentRef(
            tenant_id=tenant_id,
            sha256=stored.sha256,
            media_type=document.media_type,
            size_bytes=stored.size_bytes,
            pages=page_count,
            bucket=stored.bucket,
            object_key=stored.object_key,
        )
        value = DocumentReceived(
            event_id=str(uuid.uuid4()),
            tenant_id=tenant_id,
            occurred_at=now,
            declared_type="auto",
            document=reference,
            attributes={},
            received_at=now,
            source="bench",
            source_ref=None,
            idempotency_key=None,
            trace=trace_field(new_trace_carrier("bench", "bench document")),
        )
        records.append((topic, value.to_avro()))
    _produce(connection, codecs, records)
    return pages


def _pages(data: bytes, media_type: str) -> int:
    return inspect_file(data, media_type, max_pages=1000, max_pixels=10**9).pages


async def _tenant(dsn: str) -> str:
    async with open_pool(dsn, max_size=1) as pool:
        return (await TenantStore(pool).create_tenant(f"bench-{uuid.uuid4().hex[:6]}")).tenant_id


async def _store(dsn: str, tenant_id: str, documents: list[Generated]) -> list[tuple[Generated, StoredObject]]:
    """Each document stored, sealed under the tenant's data key in the benchmark's database (the service's)."""
    async with open_pool(dsn, max_size=1) as pool:
        store = sealed_store(pool)
        store.ensure_bucket()
        return [(d, await store.put(tenant_id, d.data, d.media_type)) for d in documents]


async def _timings(dsn: str) -> list[dict[str, float]]:
    async with open_pool(dsn, max_size=1) as pool:
        rows = await pool.fetch("SELECT extraction FROM documents")
    shown: list[dict[str, Any]] = [json.loads(row["extraction"]) for row in rows]
    return [dict(s["timings_ms"]) for s in shown]


def markdown(runs: list[ExtractRun], stamp_line: str) -> str:
    rows = "\n".join(
        f"| {r.kind} | {r.documents} | {r.pages} | {r.pages_per_s:.1f} | {r.p50_ms:.0f} | {r.p99_ms:.0f} |"
        f" {r.ocr_share:.0%} |"
        for r in runs
    )
    return f"""## Extract: pages per second through the extract service

{stamp_line}

Synthetic invoices and claims of all {LAYOUTS} layouts, stored in SeaweedFS, their references on a private
topic, read by one `services.extract` process (one reader process, the default settings). Pages per
second from the first document recorded to the last; per document, the extractor's own time (read,
OCR, fields, checks). Goals on 2 cores: at least 20 pages/s born-digital, at least 2 pages/s scanned.

| documents | count | pages | pages/s | p50 ms/doc | p99 ms/doc | OCR share |
|---|---:|---:|---:|---:|---:|---:|
{rows}
"""
