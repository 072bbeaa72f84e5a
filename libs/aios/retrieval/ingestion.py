"""Files into a tenant's knowledge base: read, skip if unchanged, chunk, embed, replace in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from aios.db.pool import run_on_database
from aios.inference.encoder import SentenceEncoder
from aios.retrieval.chunking import chunk_blocks
from aios.retrieval.documents import discover, read_document
from aios.retrieval.embedding import chunk_inputs, load_encoder
from aios.retrieval.errors import DocumentError
from aios.retrieval.settings import RetrievalSettings
from aios.retrieval.store import KnowledgeBase, NewDocument


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    """(file, reason) of files that could not be read; the others are ingested regardless."""
    chunks: int = 0

    def summary(self) -> str:
        return (
            f"added {len(self.added)}, replaced {len(self.replaced)}, unchanged {len(self.unchanged)}, "
            f"failed {len(self.failed)} ({self.chunks} chunks written)"
        )


def add_paths(
    tenant_id: str,
    paths: Sequence[Path],
    *,
    force: bool = False,
    on_start: Callable[[int], None] = lambda _: None,
    advance: Callable[[str], None] = lambda _: None,
) -> IngestReport:
    """Ingest every document file under `paths` into the tenant's knowledge base (`AIOS_POSTGRES_DSN`).

    `on_start(count)` learns how many files were found; `advance(document_id)` is called before each one.
    """
    files = list(discover(paths))
    on_start(len(files))
    settings = RetrievalSettings()
    encoder = load_encoder()
    return run_on_database(
        lambda pool: ingest_files(
            KnowledgeBase(pool, settings.text_search_config),
            encoder,
            tenant_id,
            files,
            settings,
            force=force,
            advance=advance,
        )
    )


async def ingest_files(
    store: KnowledgeBase,
    encoder: SentenceEncoder,
    tenant_id: str,
    files: Sequence[tuple[Path, str]],
    settings: RetrievalSettings,
    *,
    force: bool = False,
    advance: Callable[[str], None] = lambda _: None,
) -> IngestReport:
    """Ingest (file, document id) pairs; a file whose content hash is stored already is skipped unless `force`."""
    report = IngestReport()
    known = await store.document_hashes(tenant_id)
    for path, document_id in files:
        advance(document_id)
        try:
            document = read_document(path, document_id)
        except DocumentError as exc:
            report.failed.append((str(path), str(exc)))
            continue
        if not force and known.get(document_id) == document.content_sha256:
            report.unchanged.append(document_id)
            continue
        chunks = chunk_blocks(document.blocks, settings.chunk_chars, settings.chunk_overlap)
        vectors = encoder.encode(chunk_inputs(document.title, chunks))
        await store.put_documents(
            tenant_id,
            [NewDocument(document_id, document.title, document.source, document.content_sha256, chunks, vectors)],
        )
        (report.replaced if document_id in known else report.added).append(document_id)
        report.chunks += len(chunks)
    return report
