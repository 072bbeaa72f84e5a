"""Knowledge-base settings shared by `aios kb` and the retrieve-generate service (`AIOS_KB_*`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from aios.retrieval.lexical import Bm25

Mode = Literal["hybrid", "lexical", "dense"]
Fusion = Literal["convex", "rrf"]
MODES: tuple[Mode, ...] = ("lexical", "dense", "hybrid")


class RetrievalSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AIOS_KB_", extra="ignore", frozen=True)

    chunk_chars: int = Field(
        default=500,
        ge=100,
        description="Longest chunk in characters; sentences are never cut unless one alone is longer. "
        "500 characters stay inside the encoder's 128 tokens together with the title.",
    )
    chunk_overlap: int = Field(
        default=1, ge=0, description="Sentences a chunk repeats from the end of the previous one."
    )
    candidates: int = Field(default=50, ge=1, description="Chunks each retriever hands to fusion.")
    fusion: Fusion = Field(
        default="convex",
        description="How hybrid search merges the two: `convex` (weighted sum of cosine and normalised BM25) "
        "or `rrf` (reciprocal rank fusion).",
    )
    lexical_weight: float = Field(
        default=0.1,
        ge=0.0,
        le=1.0,
        description="Convex fusion: score = (1 - w) * cosine + w * BM25 / best BM25 of the query. "
        "0.1 was chosen on data/kb/demo/qa-dev.jsonl (CLINC150 validation queries), never on the test queries.",
    )
    rrf_k: int = Field(default=60, ge=1, description="Reciprocal rank fusion constant: score = sum of 1 / (k + rank).")
    bm25_k1: float = Field(default=1.2, gt=0.0, description="BM25 term-frequency saturation (the usual 1.2).")
    bm25_b: float = Field(default=0.75, ge=0.0, le=1.0, description="BM25 length normalisation (the usual 0.75).")
    title_weight: float = Field(
        default=3.0,
        ge=0.0,
        description="What a word of the document's title counts for in BM25, against one in the chunk's text "
        "(chosen on data/kb/demo/qa-dev.jsonl).",
    )
    lexical_budget: int = Field(
        default=1000,
        ge=1,
        description="Most chunks one lexical search scores: candidates come from the query's rarest words "
        "while their chunk frequencies add up to at most this (exact below it; bounds the cost on large KBs).",
    )
    text_search_config: str = Field(
        default="english",
        pattern=r"^[a-z_]+$",
        description="PostgreSQL text search configuration for chunks and queries (stemming, stop words).",
    )

    def bm25(self) -> Bm25:
        return Bm25(self.bm25_k1, self.bm25_b, self.title_weight)
