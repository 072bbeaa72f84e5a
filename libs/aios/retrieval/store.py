"""The knowledge base in PostgreSQL: documents, chunks with tsvector and embedding, per-tenant settings.

Every change to a tenant's documents takes a new `kb_tenants.revision` in the same transaction,
so a reader holding the tenant's embedding matrix reloads it exactly when it changed. Tenant ids
are UUIDs (`tenants.tenant_id`); any other string names no knowledge base.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

import asyncpg
import numpy as np

from aios.keys.envelope import DataKeys
from aios.retrieval.embedding import from_bytes, to_bytes
from aios.retrieval.endpoint import GeneratorEndpoint, endpoint_aad
from aios.retrieval.errors import RetrievalError
from aios.retrieval.lexical import Bm25, LexicalPlan, TermStatistics, any_of
from aios.retrieval.types import ChunkKey, Passage

GENERATORS = ("extractive", "triton", "openai")


class Keep:
    """Leave a setting as it is (None already means "the service's default")."""


KEEP = Keep()


@dataclass(frozen=True)
class NewDocument:
    """A document to store: its chunks and one embedding (row) per chunk."""

    document_id: str
    title: str
    source: str
    content_sha256: str
    chunks: Sequence[str]
    embeddings: np.ndarray


@dataclass(frozen=True)
class DocumentInfo:
    document_id: str
    title: str
    source: str
    chunks: int
    content_sha256: str
    updated_at: datetime


@dataclass(frozen=True)
class TenantKb:
    """A tenant's KB revision and draft settings (None: the service's default)."""

    revision: int
    generator: str | None
    no_draft_labels: tuple[str, ...] | None
    generator_by_label: Mapping[str, str] = field(default_factory=dict)
    """Generators chosen for single labels; they win over `generator`."""
    endpoint: GeneratorEndpoint | None = None
    """The tenant's own server for the `openai` generator (None: the service's)."""

    def generator_for(self, label: str) -> str | None:
        return self.generator_by_label.get(label) or self.generator


@dataclass(frozen=True)
class Embeddings:
    """A consistent snapshot of a tenant's chunk embeddings and the revision it belongs to."""

    revision: int
    keys: list[ChunkKey]
    matrix: np.ndarray


def tenant_uuid(tenant_id: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(tenant_id)
    except ValueError:
        return None


class KnowledgeBase:
    def __init__(self, pool: asyncpg.Pool, text_search_config: str = "english", dim: int = 384) -> None:
        self.pool = pool
        self.config = text_search_config
        self.dim = dim

    @cached_property
    def data_keys(self) -> DataKeys:
        """Made on first use: only tenants with their own endpoint need the key-encryption key."""
        return DataKeys(self.pool)

    # -- writing -----------------------------------------------------------------------------

    async def document_hashes(self, tenant_id: str) -> dict[str, str]:
        rows = await self.pool.fetch(
            "SELECT document_id, content_sha256 FROM kb_documents WHERE tenant_id = $1", _uuid(tenant_id)
        )
        return {row["document_id"]: row["content_sha256"] for row in rows}

    async def put_documents(self, tenant_id: str, documents: Sequence[NewDocument]) -> None:
        """Add these documents, or replace them and all their chunks, in one transaction (one revision)."""
        for document in documents:
            if len(document.chunks) != len(document.embeddings):
                raise RetrievalError(
                    f"{document.document_id}: {len(document.chunks)} chunks but {len(document.embeddings)} embeddings"
                )
        tenant = _uuid(tenant_id)
        chunks = [(d, number, text) for d in documents for number, text in enumerate(d.chunks)]
        async with self.pool.acquire() as conn, conn.transaction():
            await _bump(conn, tenant)
            await conn.execute(
                "DELETE FROM kb_documents WHERE tenant_id = $1 AND document_id = ANY($2::text[])",
                tenant,
                [d.document_id for d in documents],
            )
            await conn.execute(
                "INSERT INTO kb_documents (tenant_id, document_id, title, source, content_sha256)"
                " SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[])",
                tenant,
                [d.document_id for d in documents],
                [d.title for d in documents],
                [d.source for d in documents],
                [d.content_sha256 for d in documents],
            )
            await conn.execute(
                "INSERT INTO kb_chunks (tenant_id, document_id, chunk_no, text, tsv, embedding)"
                " SELECT $1, c.document_id, c.chunk_no, c.text,"
                " setweight(to_tsvector($2::regconfig, c.title), 'A')"
                " || setweight(to_tsvector($2::regconfig, c.text), 'B'),"
                " c.embedding"
                " FROM unnest($3::text[], $4::int[], $5::text[], $6::text[], $7::bytea[])"
                " AS c(document_id, chunk_no, text, title, embedding)",
                tenant,
                self.config,
                [d.document_id for d, _, _ in chunks],
                [number for _, number, _ in chunks],
                [text for _, _, text in chunks],
                [d.title for d, _, _ in chunks],
                [to_bytes(d.embeddings[number]) for d, number, _ in chunks],
            )

    async def remove_documents(self, tenant_id: str, document_ids: Sequence[str]) -> list[str]:
        """Remove these documents (and their chunks); returns the ids that existed."""
        tenant = _uuid(tenant_id)
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "DELETE FROM kb_documents WHERE tenant_id = $1 AND document_id = ANY($2::text[]) RETURNING document_id",
                tenant,
                list(document_ids),
            )
            if rows:
                await _bump(conn, tenant)
        return sorted(row["document_id"] for row in rows)

    async def configure(
        self,
        tenant_id: str,
        generator: str | Keep | None = KEEP,
        no_draft_labels: Sequence[str] | Keep | None = KEEP,
    ) -> TenantKb:
        """Set the tenant's generator and the labels that get no draft; None means the service's default again."""
        if isinstance(generator, str) and generator not in GENERATORS:
            raise RetrievalError(f"unknown generator {generator!r} (choose {', '.join(GENERATORS)})")
        given = (("generator", generator), ("no_draft_labels", no_draft_labels))
        assignments = "".join(f", {column} = EXCLUDED.{column}" for column, value in given if value is not KEEP)
        row = await self.pool.fetchrow(
            f"INSERT INTO kb_tenants (tenant_id, generator, no_draft_labels) VALUES ($1, $2, $3)"  # noqa: S608
            f" ON CONFLICT (tenant_id) DO UPDATE SET updated_at = now(){assignments}"
            " RETURNING revision, generator, no_draft_labels, generator_by_label",
            _uuid(tenant_id),
            None if isinstance(generator, Keep) else generator,
            None if isinstance(no_draft_labels, Keep) or no_draft_labels is None else list(no_draft_labels),
        )
        assert row is not None
        return _tenant_kb(row)

    async def configure_label(self, tenant_id: str, label: str, generator: str | None) -> TenantKb:
        """Set the generator of one label (None: the label follows the tenant's generator again)."""
        if generator is not None and generator not in GENERATORS:
            raise RetrievalError(f"unknown generator {generator!r} (choose {', '.join(GENERATORS)})")
        row = await self.pool.fetchrow(
            "INSERT INTO kb_tenants (tenant_id, generator_by_label) VALUES ($1, $3::jsonb)"
            " ON CONFLICT (tenant_id) DO UPDATE SET updated_at = now(),"
            " generator_by_label = (kb_tenants.generator_by_label - $2::text) || $3::jsonb"
            " RETURNING revision, generator, no_draft_labels, generator_by_label",
            _uuid(tenant_id),
            label,
            json.dumps({label: generator} if generator else {}),
        )
        assert row is not None
        return _tenant_kb(row)

    async def set_endpoint(self, tenant_id: str, endpoint: GeneratorEndpoint | None) -> None:
        """The tenant's own server for the `openai` generator, sealed; None: the service's server again."""
        sealed = await self.data_keys.seal(tenant_id, endpoint.to_json(), endpoint_aad(tenant_id)) if endpoint else None
        await self.pool.execute(
            "INSERT INTO kb_tenants (tenant_id, openai_endpoint) VALUES ($1, $2)"
            " ON CONFLICT (tenant_id) DO UPDATE SET updated_at = now(), openai_endpoint = EXCLUDED.openai_endpoint",
            _uuid(tenant_id),
            sealed,
        )

    # -- reading -----------------------------------------------------------------------------

    async def documents(self, tenant_id: str) -> list[DocumentInfo]:
        rows = await self.pool.fetch(
            "SELECT d.document_id, d.title, d.source, d.content_sha256, d.updated_at, count(c.chunk_no) AS chunks"
            " FROM kb_documents d LEFT JOIN kb_chunks c USING (tenant_id, document_id)"
            " WHERE d.tenant_id = $1 GROUP BY d.tenant_id, d.document_id ORDER BY d.document_id",
            _uuid(tenant_id),
        )
        return [
            DocumentInfo(r["document_id"], r["title"], r["source"], r["chunks"], r["content_sha256"], r["updated_at"])
            for r in rows
        ]

    async def tenants(self, tenant_ids: Sequence[str]) -> dict[str, TenantKb]:
        """Revision and settings of those tenants that have a knowledge-base row."""
        ids = {tenant: parsed for tenant in set(tenant_ids) if (parsed := tenant_uuid(tenant)) is not None}
        if not ids:
            return {}
        rows = await self.pool.fetch(
            "SELECT tenant_id, revision, generator, no_draft_labels, generator_by_label, openai_endpoint"
            " FROM kb_tenants WHERE tenant_id = ANY($1::uuid[])",
            list(ids.values()),
        )
        by_uuid = {row["tenant_id"]: _tenant_kb(row, await self._endpoint(row)) for row in rows}
        return {tenant: by_uuid[parsed] for tenant, parsed in ids.items() if parsed in by_uuid}

    async def _endpoint(self, row: asyncpg.Record) -> GeneratorEndpoint | None:
        sealed = row["openai_endpoint"]
        if sealed is None:
            return None
        tenant_id = str(row["tenant_id"])
        return GeneratorEndpoint.from_json(await self.data_keys.open(sealed, endpoint_aad(tenant_id)))

    @asynccontextmanager
    async def _snapshot(self, tenant: uuid.UUID) -> AsyncIterator[tuple[asyncpg.Connection, int]]:
        """A read-only repeatable-read transaction and the tenant's revision: what it reads belongs to that revision."""
        async with self.pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
            yield conn, await conn.fetchval("SELECT revision FROM kb_tenants WHERE tenant_id = $1", tenant) or 0

    async def embeddings(self, tenant_id: str) -> Embeddings:
        """Every chunk embedding of the tenant, read in one snapshot with the revision it belongs to."""
        tenant = _uuid(tenant_id)
        async with self._snapshot(tenant) as (conn, revision):
            rows = await conn.fetch(
                "SELECT document_id, chunk_no, embedding FROM kb_chunks WHERE tenant_id = $1"
                " ORDER BY document_id, chunk_no",
                tenant,
            )
        keys = [ChunkKey(row["document_id"], row["chunk_no"]) for row in rows]
        return Embeddings(revision, keys, from_bytes([row["embedding"] for row in rows], self.dim))

    async def term_statistics(self, tenant_id: str) -> TermStatistics:
        """Chunk count, mean chunk length and every lexeme's chunk frequency, in one snapshot with its revision."""
        tenant = _uuid(tenant_id)
        async with self._snapshot(tenant) as (conn, revision):
            sizes = await conn.fetchrow(
                "SELECT count(*) AS chunks, coalesce(avg(length(tsv)), 0) AS mean_length"
                " FROM kb_chunks WHERE tenant_id = $1",
                tenant,
            )
            rows = await conn.fetch(
                "SELECT word, ndoc FROM ts_stat(format('SELECT tsv FROM kb_chunks WHERE tenant_id = %L', $1::text))",
                str(tenant),
            )
        assert sizes is not None
        return TermStatistics(
            revision, sizes["chunks"], float(sizes["mean_length"]), {row["word"]: row["ndoc"] for row in rows}
        )

    async def query_terms(self, queries: Sequence[str]) -> list[list[str]]:
        """The distinct lexemes of each query under the knowledge base's text search configuration."""
        rows = await self.pool.fetch(
            "SELECT tsvector_to_array(to_tsvector($1::regconfig, q)) AS terms"
            " FROM unnest($2::text[]) WITH ORDINALITY AS u(q, i) ORDER BY i",
            self.config,
            list(queries),
        )
        return [list(row["terms"]) for row in rows]

    async def lexical(
        self, plans: Sequence[LexicalPlan | None], limit: int, budget: int, bm25: Bm25
    ) -> list[list[tuple[ChunkKey, float]]]:
        """The `limit` best chunks by BM25 for each planned query, in one round trip (None: no hits).

        Candidates (chunks holding one of the plan's candidate terms, found through the GIN index,
        at most `budget` of them) are scored with every query term: a term found f times in the
        title and g times in the text counts tf = title_weight * f + g, and adds
        idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / mean length)), length being the
        chunk's number of distinct lexemes (`length(tsv)`).
        """
        found: list[list[tuple[ChunkKey, float]]] = [[] for _ in plans]
        asked = [(i, p) for i, p in enumerate(plans) if p is not None and tenant_uuid(p.tenant_id) is not None]
        if not asked:
            return found
        terms = [(i, term, weight) for i, p in asked for term, weight in p.weights.items()]
        rows = await self.pool.fetch(
            "WITH q AS (SELECT * FROM unnest($1::int[], $2::uuid[], $3::text[], $4::float8[])"
            "           AS q(i, tenant_id, tq, mean_length)),"
            "     t AS (SELECT * FROM unnest($5::int[], $6::text[], $7::float8[]) AS t(i, lexeme, idf)),"
            "     k AS (SELECT $10::float8 AS k1, $11::float8 AS b, $12::float8 AS title)"
            " SELECT q.i, hit.document_id, hit.chunk_no, hit.score FROM q CROSS JOIN k CROSS JOIN LATERAL ("
            "   SELECT c.document_id, c.chunk_no, ("
            "     SELECT sum(m.idf * m.tf * (k.k1 + 1)"
            "                / (m.tf + k.k1 * (1 - k.b + k.b * length(c.tsv) / q.mean_length)))"
            "     FROM (SELECT t.idf, k.title * a.title + cardinality(u.weights) - a.title AS tf"
            "           FROM unnest(c.tsv) AS u JOIN t ON t.i = q.i AND t.lexeme = u.lexeme"
            "           CROSS JOIN LATERAL (SELECT cardinality(array_positions(u.weights, 'A')) AS title) AS a) AS m"
            "   ) AS score"
            "   FROM (SELECT document_id, chunk_no, tsv FROM kb_chunks"
            "         WHERE tenant_id = q.tenant_id AND tsv @@ q.tq::tsquery LIMIT $8::int) AS c"
            "   ORDER BY score DESC, c.document_id, c.chunk_no LIMIT $9::int"
            " ) AS hit ORDER BY q.i, hit.score DESC, hit.document_id, hit.chunk_no",
            [i for i, _ in asked],
            [_uuid(p.tenant_id) for _, p in asked],
            [any_of(p.candidate_terms) for _, p in asked],
            [max(p.mean_length, 1.0) for _, p in asked],
            [i for i, _, _ in terms],
            [term for _, term, _ in terms],
            [weight for _, _, weight in terms],
            budget,
            limit,
            bm25.k1,
            bm25.b,
            bm25.title_weight,
        )
        for row in rows:
            found[row["i"]].append((ChunkKey(row["document_id"], row["chunk_no"]), float(row["score"])))
        return found

    async def passages(self, wanted: Sequence[tuple[str, ChunkKey]]) -> dict[tuple[str, ChunkKey], Passage]:
        """Text and title of chunks named by (tenant, key), in one round trip (scores are left at 0)."""
        asked = [(tenant, key) for tenant, key in set(wanted) if tenant_uuid(tenant) is not None]
        if not asked:
            return {}
        rows = await self.pool.fetch(
            "SELECT w.tenant_id, c.document_id, c.chunk_no, c.text, d.title"
            " FROM unnest($1::uuid[], $2::text[], $3::int[]) AS w(tenant_id, document_id, chunk_no)"
            " JOIN kb_chunks c USING (tenant_id, document_id, chunk_no)"
            " JOIN kb_documents d USING (tenant_id, document_id)",
            [_uuid(tenant) for tenant, _ in asked],
            [key.document_id for _, key in asked],
            [key.chunk_no for _, key in asked],
        )
        canonical = {str(_uuid(tenant)): tenant for tenant, _ in asked}
        return {
            (canonical[str(row["tenant_id"])], ChunkKey(row["document_id"], row["chunk_no"])): Passage(
                ChunkKey(row["document_id"], row["chunk_no"]), row["title"], row["text"], 0.0
            )
            for row in rows
        }


async def _bump(conn: asyncpg.Connection, tenant: uuid.UUID) -> None:
    """A new revision for the tenant's KB (creating its row on first use)."""
    await conn.execute(
        "INSERT INTO kb_tenants (tenant_id) VALUES ($1)"
        " ON CONFLICT (tenant_id) DO UPDATE SET revision = nextval('kb_revision'), updated_at = now()",
        tenant,
    )


def _uuid(tenant_id: str) -> uuid.UUID:
    parsed = tenant_uuid(tenant_id)
    if parsed is None:
        raise RetrievalError(f"tenant id {tenant_id!r} is not a UUID (aios tenants list shows them)")
    return parsed


def _tenant_kb(row: asyncpg.Record, endpoint: GeneratorEndpoint | None = None) -> TenantKb:
    labels = row["no_draft_labels"]
    by_label = json.loads(row["generator_by_label"])
    return TenantKb(row["revision"], row["generator"], None if labels is None else tuple(labels), by_label, endpoint)
