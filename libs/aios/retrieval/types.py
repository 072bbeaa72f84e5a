"""What retrieval hands on: chunk keys and passages (a chunk's text with its score)."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True, order=True)
class ChunkKey:
    document_id: str
    chunk_no: int

    @property
    def chunk_id(self) -> str:
        """The chunk's id in records and citations: `document#number`."""
        return f"{self.document_id}#{self.chunk_no}"


@dataclass(frozen=True)
class Passage:
    key: ChunkKey
    title: str
    text: str
    score: float

    def scored(self, score: float) -> Passage:
        return replace(self, score=score)


def snippet(text: str, limit: int = 160) -> str:
    """The chunk on one line, cut at a word boundary."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit].rsplit(" ", 1)[0] + " …"
