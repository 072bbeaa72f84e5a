"""Documents through the whole pipeline: documents per second and upload → decision, born-digital and scanned.

On the pipeline `aios up` runs (ingest, extract, classify, retrieve-generate, decide, act...), with a tenant of
its own on the shipped payables policy and reference data made from the invoices' truth (so most invoices are
touchless and some fail a rule, as in an AP inbox). Synthetic invoices of the generator's tuning layouts are
uploaded with `POST /v1/documents` a few at a time; an invoice is decided when its decision or its review
request is on its topic (broker time). Documents per second is from the first upload to the last decision.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import asyncpg
import httpx
from confluent_kafka import Consumer, TopicPartition
from rich.console import Console

from aios.bench.report import stamp, write_section
from aios.db.pool import run_on_database
from aios.demo.setup import RunningPipeline, start_pipeline
from aios.documents.synthetic import HELD_OUT_LAYOUTS, LAYOUTS, Generated, generate, layout
from aios.kafka import topics
from aios.kafka.clients import kafka_config
from aios.kafka.serde import Codecs
from aios.paths import project_root
from aios.policy.loading import load_policy
from aios.policy.reference import Kind
from aios.policy.store import PolicyStore
from aios.refdata.parsing import parse_file
from aios.refdata.store import RefdataStore
from aios.stats import percentile
from aios.tenants.store import IssuedKey, TenantStore

DECIDED_TOPICS = (topics.DECISIONS.name, topics.REVIEW_REQUESTED.name, topics.DEADLETTER.name)
"""Where an invoice's first outcome appears: decided, sent to a person, or dead-lettered."""

INVOICE_LAYOUTS = [n for n in range(LAYOUTS) if n not in HELD_OUT_LAYOUTS and layout(n).kind == "invoice"]
CONCURRENCY = 4
"""Uploads in flight at once: an inbox being emptied, not a flood."""


@dataclass(frozen=True)
class DocumentPipelinePlan:
    born_digital: int = 48
    scanned: int = 12
    timeout_s: float = 1800.0
    """How long the last invoice may take to be decided before the run is given up."""


@dataclass(frozen=True)
class KindResult:
    kind: str
    documents: int
    decided: int
    seconds: float
    p50_s: float
    p99_s: float

    @property
    def per_s(self) -> float:
        return self.decided / self.seconds if self.seconds > 0 else 0.0


def payables_refdata(invoices: Iterable[Generated], iban_on_file: Mapping[str, str] | None = None) -> dict[Kind, str]:
    """Vendor and purchase-order CSVs (`aios refdata import`'s format) of `invoices`, from their truth.

    `iban_on_file` gives a vendor (by name) another IBAN than its invoice's: its invoices ask to be paid elsewhere.
    """
    vendors, orders = ["name,aliases,tax_id,ibans"], ["number,vendor,amount,currency,remaining"]
    for invoice in invoices:
        f = invoice.fields
        iban = (iban_on_file or {}).get(f["vendor_name"] or "", f["iban"])
        vendors.append(f"{f['vendor_name']},,{f['vendor_tax_id'] or ''},{iban or ''}")
        orders.append(f"{f['po_number']},{f['vendor_name']},{f['total']},{f['currency']},{f['total']}")
    return {"vendors": "\n".join(vendors) + "\n", "purchase-orders": "\n".join(orders) + "\n"}


async def import_refdata(pool: asyncpg.Pool, tenant_id: str, files: Mapping[Kind, str], source: str) -> None:
    for kind, text in files.items():
        await RefdataStore(pool).import_file(
            tenant_id, parse_file(kind, text), replace=False, source=source, imported_by="bench"
        )


def invoices(count: int, *, scanned: bool, seed: int) -> list[Generated]:
    """`count` invoices over the tuning layouts, each of its own seed (no two are duplicates)."""
    return [
        generate(seed + n, INVOICE_LAYOUTS[n % len(INVOICE_LAYOUTS)], scanned=scanned)
        for n in range(count)  # a scanned and a born-digital run never share a seed
    ]


def payables_tenant(documents: Sequence[Generated]) -> IssuedKey:
    """A new tenant on `policies/payables.yaml` with the documents' vendors and purchase orders."""
    name = f"bench-payables-{uuid.uuid4().hex[:6]}"
    text = (project_root() / "policies" / "payables.yaml").read_text().replace("tenant: payables", f"tenant: {name}")

    async def work(pool: asyncpg.Pool) -> IssuedKey:
        issued = await TenantStore(pool).create_tenant(name)
        await PolicyStore(pool).apply(issued.tenant_id, load_policy(text))
        await import_refdata(pool, issued.tenant_id, payables_refdata(documents), "bench")
        return issued

    return run_on_database(work)


class DecisionClock:
    """The broker time of each event's first outcome, read from the end of the outcome topics onwards."""

    def __init__(self, bootstrap: str, codecs: Codecs) -> None:
        self.codecs = codecs
        self.decided_ms: dict[str, int] = {}
        self.consumer = Consumer({**kafka_config(bootstrap), "group.id": f"bench-{uuid.uuid4().hex[:8]}"})
        metadata = self.consumer.list_topics(timeout=30)
        assigned = []
        for topic in DECIDED_TOPICS:
            for partition in metadata.topics[topic].partitions:
                _, high = self.consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=30)
                assigned.append(TopicPartition(topic, partition, high))
        self.consumer.assign(assigned)

    def poll(self, timeout_s: float = 0.2) -> None:
        for message in self.consumer.consume(500, timeout_s):
            if message.error() is not None or message.value() is None:
                continue
            value = self.codecs.decode(message.topic() or "", message.value() or b"")
            self.decided_ms.setdefault(str(value["event_id"]), message.timestamp()[1])

    def close(self) -> None:
        self.consumer.close()


async def _upload(url: str, api_key: str, documents: Sequence[Generated]) -> dict[str, float]:
    """Each document uploaded (CONCURRENCY at once); event id → the time its upload began."""
    sent: dict[str, float] = {}
    gate = asyncio.Semaphore(CONCURRENCY)
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {api_key}"}, timeout=120) as client:

        async def one(n: int, document: Generated) -> None:
            async with gate:
                at = time.time()
                response = await client.post(
                    f"{url}/v1/documents",
                    files={"file": (f"invoice-{n}", document.data, document.media_type)},
                    data={"type": "invoice"},
                )
                response.raise_for_status()
                sent[str(response.json()["event_id"])] = at

        await asyncio.gather(*(one(n, d) for n, d in enumerate(documents)))
    return sent


def run_kind(
    console: Console, pipeline: RunningPipeline, kind: str, documents: Sequence[Generated], timeout_s: float
) -> KindResult:
    tenant = payables_tenant(documents)
    clock = DecisionClock(pipeline.connection.kafka_bootstrap, Codecs(pipeline.connection.schema_registry_url))
    try:
        with console.status(f"{len(documents)} {kind} invoices: upload → decision"):
            sent = asyncio.run(_upload(pipeline.urls["ingest_url"], tenant.api_key, documents))
            deadline = time.monotonic() + timeout_s
            while not sent.keys() <= clock.decided_ms.keys() and time.monotonic() < deadline:
                clock.poll()
    finally:
        clock.close()
    latencies = [clock.decided_ms[e] / 1000 - at for e, at in sent.items() if e in clock.decided_ms]
    last = max((clock.decided_ms[e] / 1000 for e in sent if e in clock.decided_ms), default=min(sent.values()))
    result = KindResult(
        kind,
        len(documents),
        len(latencies),
        last - min(sent.values()),
        percentile(latencies, 50) if latencies else float("nan"),
        percentile(latencies, 99) if latencies else float("nan"),
    )
    console.print(f"{kind}: {result.per_s:.2f} documents/s, p50 {result.p50_s:.1f} s, p99 {result.p99_s:.1f} s")
    return result


def run_document_pipeline_bench(
    console: Console, pipeline: RunningPipeline, plan: DocumentPipelinePlan
) -> list[KindResult]:
    return [
        run_kind(
            console, pipeline, "born-digital", invoices(plan.born_digital, scanned=False, seed=700_000), plan.timeout_s
        ),
        run_kind(console, pipeline, "scanned", invoices(plan.scanned, scanned=True, seed=800_000), plan.timeout_s),
    ]


def markdown(results: list[KindResult], stamp_line: str, note: str = "") -> str:
    rows = "\n".join(
        f"| {r.kind} | {r.documents} | {r.decided} | {r.per_s:.2f} | {r.p50_s:.1f} | {r.p99_s:.1f} |" for r in results
    )
    return f"""## Documents through the whole pipeline: documents per second, upload → decision

{stamp_line}

{note}Synthetic invoices of the generator's tuning layouts, uploaded with `POST /v1/documents` ({CONCURRENCY} at once)
for a tenant on `policies/payables.yaml` with reference data made from the invoices' truth, through every
service `aios up` runs (ingest, extract, classify, retrieve-generate, decide, act...). An invoice is decided
when its decision, its review request or its dead letter is on its topic (broker time); documents per second
from the first upload to the last decision.

| invoices | uploaded | decided | documents/s | upload → decision p50 s | p99 s |
|---|---:|---:|---:|---:|---:|
{rows}
"""


def document_pipeline_section(console: Console, plan: DocumentPipelinePlan, command: str, note: str = "") -> None:
    """Starts every service (`aios up`) like the pipeline section, and leaves them running."""
    results = run_document_pipeline_bench(console, start_pipeline(console), plan)
    report = write_section("documents-pipeline", markdown(results, stamp(command), note))
    console.print(f"wrote {report}")
