"""Knowledge-base settings shared by `aios kb` and the retrieve-generate service (`AIOS_KB_*`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

Mode = Literal["hybrid", "lexical", "dense"]
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
    candidates: int = Field(default=50, ge=1, description="Chunks each retriever ranks before reciprocal rank fusion.")
    rrf_k: int = Field(default=60, ge=1, description="Reciprocal rank fusion constant: score = sum of 1 / (k + rank).")
    text_search_config: str = Field(
        default="english",
        pattern=r"^[a-z_]+$",
        description="PostgreSQL text search configuration for chunks and queries (stemming, stop words).",
    )
