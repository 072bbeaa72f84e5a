"""The demo's documents on the running pipeline: their tenants, sending them, the reviewer, the summary.

Each document tenant (`payables`, `claims`) gets its sample policy, the reference rows written from
the demo's documents (what `aios refdata import` would import), a reviewer, and connectors pointing at
the demo receiver (webhook, ERP or claims system, email) and at the payout simulator. The documents go
through `POST /v1/documents` with the SDK; the watch follows each event until it is final.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg
import httpx
from rich.console import Console
from rich.progress import Progress

from aios.client import AsyncAiosClient
from aios.connectors.builtin import default_connectors
from aios.connectors.config import ConnectorConfigs
from aios.db.pool import run_on_database
from aios.demo.document_summary import DocumentOutcome, summarise, summary_table
from aios.demo.documents import TENANT_OF, DemoDocument, DemoDocuments
from aios.demo.receiver import SYSTEMS, ReceiverSettings
from aios.demo.reviewer import Completed, ReviewPage
from aios.demo.tracking import EventTrack, PipelineWatch
from aios.paths import project_root
from aios.policy.loading import load_policy_file
from aios.policy.reference import Kind
from aios.policy.store import PolicyStore
from aios.progress import COUNTING_COLUMNS
from aios.refdata.parsing import parse_file
from aios.refdata.store import RefdataStore
from aios.review.accounts import ReviewerAccounts
from aios.review.errors import ReviewerExists
from aios.runtime.catalog import service
from aios.tenants.errors import TenantNotFoundError
from aios.tenants.store import TenantStore

SYSTEM_OF = {"payables": "erp", "claims": "claims"}
"""The connector each tenant's policy posts to its own system with."""


def prepare_document_tenants(
    console: Console, documents: DemoDocuments, reviewer: str, password: str, secret: str
) -> dict[str, str]:
    """Policy, reference rows, reviewer and connectors of each document tenant; tenant → a fresh API key."""
    receiver = f"http://127.0.0.1:{ReceiverSettings().port}"
    settings = ReceiverSettings()
    connectors = default_connectors(httpx.AsyncClient())

    def configs(tenant: str) -> dict[str, dict[str, Any]]:
        return {
            "webhook": {"url": f"{receiver}/hooks/{tenant}", "secret": secret},
            SYSTEM_OF[tenant]: {
                "url": f"{receiver}/{SYSTEMS}{SYSTEM_OF[tenant]}",
                "headers": {"Authorization": f"Bearer {secret}"},
            },
            "email": {"host": "127.0.0.1", "port": settings.smtp_port, "sender": f"{tenant}@aios.example"},
            "payment": {"url": service("payouts-sim").local_url, "api_key": "demo"},
        }

    async def work(pool: asyncpg.Pool) -> dict[str, str]:
        store, keys = TenantStore(pool), {}
        for tenant in TENANT_OF.values():
            try:
                issued = await store.rotate_key(tenant)
            except TenantNotFoundError:
                issued = await store.create_tenant(tenant)
            keys[tenant] = issued.api_key
            found = await store.resolve(tenant)
            await PolicyStore(pool).apply(
                found.tenant_id, load_policy_file(project_root() / "policies" / f"{tenant}.yaml")
            )
            for kind, text in documents.refdata[tenant].items():
                await RefdataStore(pool).import_file(
                    found.tenant_id, parse_file(_kind(kind), text), replace=True,
                    source=f"aios demo ({kind})", imported_by="aios demo",
                )  # fmt: skip
            accounts = ReviewerAccounts(pool)
            try:
                await accounts.add(found, reviewer, password)
            except ReviewerExists:
                await accounts.set_password(found, reviewer, password)
            for name, config in configs(tenant).items():
                await ConnectorConfigs(pool).set(found.tenant_id, name, connectors[name].check_config(config))
        return keys

    keys = run_on_database(work)
    for tenant in keys:
        rows = ", ".join(f"{len(text.splitlines()) - 1} {kind}" for kind, text in documents.refdata[tenant].items())
        console.print(f"[bold]{tenant}[/]: policies/{tenant}.yaml active, reference data {rows}, reviewer `{reviewer}`")
    return keys


def _kind(name: str) -> Kind:
    kinds: dict[str, Kind] = {"vendors": "vendors", "purchase-orders": "purchase-orders", "policies": "policies"}
    return kinds[name]


async def send_documents(
    console: Console, ingest_url: str, keys: dict[str, str], documents: list[DemoDocument], watch: PipelineWatch
) -> dict[str, tuple[DemoDocument, float]]:
    """Event id → (document, upload time) of every accepted document, a few at a time per tenant."""
    sent: dict[str, tuple[DemoDocument, float]] = {}
    gate = asyncio.Semaphore(8)
    with Progress(*COUNTING_COLUMNS, console=console) as progress:
        task = progress.add_task(f"uploading {len(documents)} documents to {ingest_url}/v1/documents", total=None)
        progress.update(task, total=len(documents))
        clients = {tenant: AsyncAiosClient(ingest_url, key) for tenant, key in keys.items()}
        try:

            async def send(document: DemoDocument) -> None:
                async with gate:
                    at = time.time()
                    event_id = await clients[document.tenant].submit_document(
                        document.document.data, document.kind, idempotency_key=document.name, source_ref=document.name
                    )
                    sent[event_id] = (document, at)
                    watch.track([event_id])
                    progress.advance(task)

            await asyncio.gather(*(send(document) for document in documents))
        finally:
            for client in clients.values():
                await client.close()
    return sent


def follow_documents(console: Console, watch: PipelineWatch, sent: dict[str, Any], timeout_s: float = 1200) -> None:
    """Poll until every document is final, with a bar per state (scans are OCR'd: minutes on a small CPU)."""
    deadline = time.monotonic() + timeout_s
    with Progress(*COUNTING_COLUMNS, console=console) as progress:
        read = progress.add_task("documents read (extract)", total=len(sent))
        final = progress.add_task("documents in a final state", total=len(sent))
        paid = progress.add_task("payouts made", total=None)
        while watch.finished < len(sent) and time.monotonic() < deadline:
            watch.poll()
            tracks = [watch.tracks[event_id] for event_id in sent]
            progress.update(read, completed=sum(1 for t in tracks if "received" in t.stages))
            progress.update(final, completed=watch.finished)
            progress.update(paid, completed=sum(1 for t in tracks if t.paid_ms))
    if watch.finished < len(sent):
        console.print(
            f"[red]{len(sent) - watch.finished} documents did not reach a final state in {timeout_s:.0f} s[/]"
        )


def review_documents(
    console: Console, review_url: str, reviewer: str, password: str, watch: PipelineWatch, sent: dict[str, Any]
) -> list[Completed]:
    """The reviewer clears each document tenant's queue: approves a document without a planted error with its fields
    as the page shows them (what was misread corrected), rejects one with.

    decide then runs what the review proposed (the sample policies propose the payment saga for doubts a clerk
    settles), paying the corrected fields.
    """
    reviews = [(sent[event_id][0], watch.tracks[event_id].review_id) for event_id in sent]
    completed: list[Completed] = []
    for tenant in TENANT_OF.values():
        page = ReviewPage(review_url)
        try:
            page.sign_in(tenant, reviewer, password)
            with console.status(f"the demo reviewer works through {tenant}'s document reviews at {review_url}"):
                # Opened by id: the queue page shows only its earliest deadlines, maybe earlier runs' items.
                for document, review_id in reviews:
                    if review_id is None or document.tenant != tenant:
                        continue
                    if error := document.planted:
                        reason = f"the demo reviewer found: {error.replace('_', ' ')}"
                        completed.append(page.complete(review_id, "REJECT", reason))
                    else:  # what the reviewer reads on the page: misread fields are corrected, then paid
                        read = {name: value for name, value in document.document.fields.items() if value is not None}
                        completed.append(page.complete(review_id, "APPROVE", "checked the file", fields=read))
        finally:
            page.close()
    return completed


def document_summary(console: Console, watch: PipelineWatch, sent: dict[str, tuple[DemoDocument, float]]) -> None:
    outcomes = [_outcome(watch.tracks[event_id], document, at) for event_id, (document, at) in sent.items()]
    stats = httpx.get(
        f"{service('payouts-sim').local_url}/admin/stats", headers={"Authorization": "Bearer demo"}, timeout=10
    ).json()
    console.print(summary_table(summarise(outcomes), stats))


def _outcome(track: EventTrack, document: DemoDocument, uploaded_at: float) -> DocumentOutcome:
    return DocumentOutcome(
        kind=document.kind,
        planted=document.planted,
        outcome=track.outcome,
        review_reason=track.review_reason,
        uploaded_at=uploaded_at,
        paid_at=track.paid_ms / 1000 if track.paid_ms else None,
    )
