"""Dense retrieval: each tenant's chunk embeddings as one torch matrix, on CPU or GPU.

A query batch is one matrix product per tenant. Matrices are reloaded only when the tenant's KB
revision moved, so a search costs no database read for embeddings. (pgvector would keep this
in PostgreSQL; it is not packaged for the Debian release this project runs on, so it is not used.)
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from aios.retrieval.store import Embeddings
from aios.retrieval.types import ChunkKey


@dataclass(frozen=True)
class _Matrix:
    revision: int
    keys: list[ChunkKey]
    vectors: torch.Tensor
    rows: dict[ChunkKey, int]


class DenseIndex:
    def __init__(self, device: torch.device | str = "cpu") -> None:
        self.device = torch.device(device)
        self._matrices: dict[str, _Matrix] = {}
        self._lock = threading.Lock()

    def revision(self, tenant_id: str) -> int | None:
        """The KB revision held for the tenant, or None when nothing is held."""
        held = self._matrices.get(tenant_id)
        return held.revision if held else None

    def put(self, tenant_id: str, embeddings: Embeddings) -> None:
        vectors = torch.from_numpy(embeddings.matrix).to(self.device)
        if self.device.type == "cuda":
            vectors = vectors.half()
        rows = {key: row for row, key in enumerate(embeddings.keys)}
        matrix = _Matrix(embeddings.revision, embeddings.keys, vectors, rows)
        with self._lock:
            self._matrices = {**self._matrices, tenant_id: matrix}

    def drop(self, tenant_id: str) -> None:
        with self._lock:
            self._matrices = {t: m for t, m in self._matrices.items() if t != tenant_id}

    def search(self, tenant_id: str, queries: np.ndarray, limit: int) -> list[list[tuple[ChunkKey, float]]]:
        """The `limit` most similar chunks of the tenant for each query vector (cosine; all vectors are unit length)."""
        held = self._matrices.get(tenant_id)
        if held is None or not held.keys or len(queries) == 0:
            return [[] for _ in range(len(queries))]
        query = torch.from_numpy(np.ascontiguousarray(queries, dtype=np.float32)).to(self.device, held.vectors.dtype)
        scores = (query @ held.vectors.T).float()
        top = torch.topk(scores, min(limit, len(held.keys)), dim=1)
        values, indices = top.values.cpu().numpy(), top.indices.cpu().numpy()
        return [
            [(held.keys[j], float(score)) for j, score in zip(row_indices, row_values, strict=True)]
            for row_indices, row_values in zip(indices, values, strict=True)
        ]

    def similarity(self, tenant_id: str, queries: np.ndarray, keys: Sequence[Sequence[ChunkKey]]) -> list[list[float]]:
        """Cosine of each query vector with each of its own chunks of the tenant (0 for a chunk not held).

        One matrix product for the batch, over the union of the chunks asked for.
        """
        held = self._matrices.get(tenant_id)
        wanted = sorted({row for asked in keys for key in asked if held and (row := held.rows.get(key)) is not None})
        if held is None or not wanted:
            return [[0.0] * len(asked) for asked in keys]
        column = {row: j for j, row in enumerate(wanted)}
        query = torch.from_numpy(np.ascontiguousarray(queries, dtype=np.float32)).to(self.device, held.vectors.dtype)
        scores = (query @ held.vectors[wanted].T).float().cpu().numpy()
        return [
            [float(scores[i, column[row]]) if (row := held.rows.get(key)) is not None else 0.0 for key in asked]
            for i, asked in enumerate(keys)
        ]
