"""Hybrid retrieval over a tenant's knowledge base: BM25 over PostgreSQL full text and dense similarity, fused.

Queries arrive with their embeddings already computed, so a caller embeds a whole batch in one
encoder call. Before searching, the dense matrices and term statistics of the batch's tenants are
reloaded where the KB revision moved (one query for all tenants); a query only ever sees its own
tenant's chunks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from aios.retrieval.dense import DenseIndex
from aios.retrieval.fusion import convex_fusion, reciprocal_rank_fusion
from aios.retrieval.lexical import TermIndex, plan
from aios.retrieval.settings import Mode, RetrievalSettings
from aios.retrieval.store import KnowledgeBase, TenantKb
from aios.retrieval.types import ChunkKey, Passage


@dataclass(frozen=True)
class Query:
    tenant_id: str
    text: str
    vector: np.ndarray


class Retriever:
    def __init__(self, store: KnowledgeBase, index: DenseIndex, settings: RetrievalSettings | None = None) -> None:
        self.store = store
        self.index = index
        self.settings = settings or RetrievalSettings()
        self.terms = TermIndex()

    async def refresh(self, tenant_ids: Sequence[str]) -> dict[str, TenantKb]:
        """KB rows of these tenants; dense matrices and term statistics whose revision moved are reloaded first."""
        kbs = await self.store.tenants(tenant_ids)
        for tenant, kb in kbs.items():
            if self.index.revision(tenant) != kb.revision:
                self.index.put(tenant, await self.store.embeddings(tenant))
            if self.terms.revision(tenant) != kb.revision:
                self.terms.put(tenant, await self.store.term_statistics(tenant))
        return kbs

    async def search(
        self, queries: Sequence[Query], k: int, mode: Mode = "hybrid", kbs: dict[str, TenantKb] | None = None
    ) -> list[list[Passage]]:
        """The `k` best chunks for each query, best first; `kbs` from `refresh` spares a second look-up."""
        if kbs is None:
            kbs = await self.refresh([query.tenant_id for query in queries])
        searched = [i for i, query in enumerate(queries) if query.tenant_id in kbs]
        limit = max(k, self.settings.candidates)
        lexical: list[list[tuple[ChunkKey, float]]] = [[] for _ in queries]
        dense: list[list[tuple[ChunkKey, float]]] = [[] for _ in queries]
        if mode != "dense" and searched:
            found = await self._lexical([queries[i] for i in searched], limit)
            for i, hits in zip(searched, found, strict=True):
                lexical[i] = hits
        if mode != "lexical":
            for tenant in {queries[i].tenant_id for i in searched}:
                positions = [i for i in searched if queries[i].tenant_id == tenant]
                vectors = np.stack([queries[i].vector for i in positions])
                for i, hits in zip(positions, self.index.search(tenant, vectors, limit), strict=True):
                    dense[i] = hits
                if mode == "hybrid" and self.settings.fusion == "convex":
                    # The weighted sum needs the cosine of every lexical hit, those below the dense top list too.
                    missing = [_absent(lexical[i], dense[i]) for i in positions]
                    cosines = self.index.similarity(tenant, vectors, missing)
                    for i, keys, values in zip(positions, missing, cosines, strict=True):
                        dense[i] = dense[i] + list(zip(keys, values, strict=True))
        ranked = [self._rank(lexical[i], dense[i], k, mode) for i in range(len(queries))]
        texts = await self.store.passages(
            [(query.tenant_id, key) for query, hits in zip(queries, ranked, strict=True) for key, _ in hits]
        )
        return [
            [texts[(query.tenant_id, key)].scored(score) for key, score in hits if (query.tenant_id, key) in texts]
            for query, hits in zip(queries, ranked, strict=True)
        ]

    async def _lexical(self, queries: Sequence[Query], limit: int) -> list[list[tuple[ChunkKey, float]]]:
        """BM25 hits of each query: its lexemes (from PostgreSQL) weighed by its tenant's statistics; one search."""
        terms = await self.store.query_terms([query.text for query in queries])
        plans = [
            plan(query.tenant_id, words, stats, self.settings.lexical_budget)
            if (stats := self.terms.get(query.tenant_id))
            else None
            for query, words in zip(queries, terms, strict=True)
        ]
        return await self.store.lexical(plans, limit, self.settings.lexical_budget, self.settings.bm25())

    def _rank(
        self,
        lexical: list[tuple[ChunkKey, float]],
        dense: list[tuple[ChunkKey, float]],
        k: int,
        mode: Mode,
    ) -> list[tuple[ChunkKey, float]]:
        if mode == "lexical":
            return lexical[:k]
        if mode == "dense":
            return dense[:k]
        if self.settings.fusion == "rrf":
            return reciprocal_rank_fusion(
                [[key for key, _ in lexical], [key for key, _ in dense]], k=self.settings.rrf_k, limit=k
            )
        return convex_fusion(lexical, dict(dense), self.settings.lexical_weight, limit=k)


def _absent(lexical: list[tuple[ChunkKey, float]], dense: list[tuple[ChunkKey, float]]) -> list[ChunkKey]:
    """Lexical hits the dense list does not hold."""
    held = {key for key, _ in dense}
    return [key for key, _ in lexical if key not in held]
