"""The generator interface: a batch of requests (event text, label, passages) in, one draft or None per request out.

Every draft marks each sentence it took from a passage with `[n]`, where `citations[n - 1]` is that
passage's (document, chunk): the same convention for every generator, so the decide service and a
reviewer read any draft the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from aios.retrieval.types import Passage


@dataclass(frozen=True)
class DraftRequest:
    text: str
    """The event text, with personal data already redacted."""
    label: str
    """The classification label; chooses the opening line."""
    passages: Sequence[Passage]
    """Retrieved chunks, best first: the only facts a draft may state."""
    vector: np.ndarray | None = None
    """The text's sentence embedding when retrieval computed it already (spares the generator a second pass)."""


@dataclass(frozen=True)
class Citation:
    document_id: str
    chunk_id: str


@dataclass(frozen=True)
class Draft:
    text: str
    citations: tuple[Citation, ...]
    generator: str
    generator_version: str


class Generator(Protocol):
    @property
    def name(self) -> str:
        """Recorded in every draft: `extractive` or `triton`."""
        ...

    @property
    def version(self) -> str:
        """Recorded in every draft, so a reviewer knows which model wrote it."""
        ...

    def generate(self, requests: Sequence[DraftRequest]) -> list[Draft | None]:
        """One draft per request, in order; None where the passages hold nothing that answers it."""
        ...


def citation_of(passage: Passage) -> Citation:
    return Citation(passage.key.document_id, passage.key.chunk_id)
