"""Sentence-aware chunking: consecutive sentences packed up to a size, each chunk repeating the last
sentence(s) of the one before, so a statement that spans a chunk boundary is whole in one of them.

Pure functions; the extractive generator uses `split_sentences` too, so the sentences it cites are
exactly the sentences the chunks were cut from.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# A sentence ends at . ! or ? (optionally closed by a quote or bracket) followed by space and an
# upper-case letter, a digit or an opening quote/bracket.
_BOUNDARY = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[\"'(\[]?[A-Z0-9])")


@dataclass(frozen=True)
class _Unit:
    text: str
    starts_block: bool


def split_sentences(text: str) -> list[str]:
    """Sentences of one line of text; every new line starts a sentence too."""
    sentences = []
    for line in text.splitlines():
        start = 0
        for match in _BOUNDARY.finditer(line):
            sentences.append(line[start : match.start() + len(match[0].rstrip())])
            start = match.end()
        sentences.append(line[start:])
    return [" ".join(s.split()) for s in sentences if s.strip()]


def chunk_blocks(blocks: Sequence[str], max_chars: int, overlap: int) -> list[str]:
    """Chunks of at most `max_chars` (a longer sentence is cut at word boundaries); blocks stay on their own lines."""
    units = [
        _Unit(piece, starts_block=i == 0)
        for block in blocks
        for i, sentence in enumerate(split_sentences(block))
        for piece in _fit(sentence, max_chars)
    ]
    chunks: list[list[_Unit]] = []
    current: list[_Unit] = []
    fresh = 0  # units of `current` not carried over from the previous chunk
    for unit in units:
        if current and fresh and _length([*current, unit]) > max_chars:
            chunks.append(current)
            current = current[len(current) - min(overlap, len(current) - 1) :] if overlap else []
            while current and _length([*current, unit]) > max_chars:
                current = current[1:]
            fresh = 0
        current.append(unit)
        fresh += 1
    if fresh:
        chunks.append(current)
    return [_join(chunk) for chunk in chunks]


def _fit(sentence: str, max_chars: int) -> list[str]:
    """The sentence, or pieces of it cut at spaces when it alone exceeds `max_chars`."""
    if len(sentence) <= max_chars:
        return [sentence]
    pieces, current = [], ""
    for word in sentence.split(" "):
        if current and len(current) + 1 + len(word) > max_chars:
            pieces.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    pieces.append(current)
    return [piece[i : i + max_chars] for piece in pieces for i in range(0, len(piece), max_chars)]


def _join(units: Sequence[_Unit]) -> str:
    text = units[0].text
    for unit in units[1:]:
        text += ("\n" if unit.starts_block else " ") + unit.text
    return text


def _length(units: Sequence[_Unit]) -> int:
    return sum(len(unit.text) for unit in units) + len(units) - 1
