"""Tenants and knowledge bases in a test's own database, driven from synchronous tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import cache
from pathlib import Path
from typing import TypeVar

from aios.db.pool import open_pool
from aios.inference.encoder import SentenceEncoder
from aios.retrieval.documents import discover
from aios.retrieval.ingestion import IngestReport, ingest_files
from aios.retrieval.settings import RetrievalSettings
from aios.retrieval.store import KnowledgeBase
from aios.tenants.store import TenantStore

T = TypeVar("T")


@cache
def encoder() -> SentenceEncoder:
    return SentenceEncoder.load()


def on_kb(dsn: str, work: Callable[[KnowledgeBase], Awaitable[T]]) -> T:
    """`await work(kb)` on a fresh pool and event loop (a pool belongs to the loop that made it)."""

    async def main() -> T:
        async with open_pool(dsn, max_size=2) as pool:
            return await work(KnowledgeBase(pool))

    return asyncio.run(main())


def create_tenant(dsn: str, name: str) -> str:
    async def main() -> str:
        async with open_pool(dsn, max_size=1) as pool:
            return (await TenantStore(pool).create_tenant(name)).tenant_id

    return asyncio.run(main())


def ingest(dsn: str, tenant_id: str, *paths: Path, force: bool = False) -> IngestReport:
    files = list(discover(paths))
    return on_kb(dsn, lambda kb: ingest_files(kb, encoder(), tenant_id, files, RetrievalSettings(), force=force))


def write_articles(folder: Path, articles: dict[str, str]) -> Path:
    """Markdown files named by document id; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for document_id, text in articles.items():
        (folder / f"{document_id}.md").write_text(text, encoding="utf-8")
    return folder
