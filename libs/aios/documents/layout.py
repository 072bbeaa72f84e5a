"""Words with positions, and the geometry every later step shares: lines and the segments within a line.

A segment is a run of words on one line with no wide gap: a label ("Invoice No.:"), a value ("INV-0042"), or
both. Layout-independence rests on these relations (left of, above, same column), not on fixed coordinates.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from statistics import median

from aios.documents.models import BBox


@dataclass(frozen=True)
class Word:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    page: int

    @property
    def height(self) -> float:
        return max(self.y1 - self.y0, 0.1)


class WordSpan:
    """Words read together (a segment of a line, a candidate value): their text, box and page."""

    words: list[Word]

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def bbox(self) -> BBox:
        return union(self.words)

    @property
    def page(self) -> int:
        return self.words[0].page


@dataclass
class Segment(WordSpan):
    words: list[Word]

    @property
    def height(self) -> float:
        return median(w.height for w in self.words)


@dataclass
class Line:
    segments: list[Segment]
    page: int
    index: int = 0
    """Position of the line in reading order over the whole document."""

    @property
    def words(self) -> list[Word]:
        return [w for s in self.segments for w in s.words]

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.segments)

    @property
    def bbox(self) -> BBox:
        return union(self.words)


@dataclass
class Page:
    number: int
    width: float
    height: float
    words: list[Word]
    ocr: bool = False
    lines: list[Line] = field(default_factory=list)


def union(words: list[Word]) -> BBox:
    return (
        round(min(w.x0 for w in words), 2),
        round(min(w.y0 for w in words), 2),
        round(max(w.x1 for w in words), 2),
        round(max(w.y1 for w in words), 2),
    )


def build_lines(page: Page, start_index: int = 0) -> list[Line]:
    """Group a page's words into lines (overlapping vertical extent) and each line into segments (gap > 1.2 em)."""
    words = sorted(page.words, key=lambda w: ((w.y0 + w.y1) / 2, w.x0))
    rows: list[list[Word]] = []
    for word in words:
        centre = (word.y0 + word.y1) / 2
        if rows:
            last = rows[-1]
            top = median(w.y0 for w in last)
            bottom = median(w.y1 for w in last)
            if top - 0.15 * word.height <= centre <= bottom + 0.15 * word.height:
                last.append(word)
                continue
        rows.append([word])
    lines: list[Line] = []
    for row in rows:
        row.sort(key=lambda w: w.x0)
        segments: list[Segment] = [Segment([row[0]])]
        for previous, word in itertools.pairwise(row):
            gap_limit = 1.2 * max(previous.height, word.height) * 0.75
            if word.x0 - previous.x1 > gap_limit:
                segments.append(Segment([word]))
            else:
                segments[-1].words.append(word)
        lines.append(Line(segments, page.number, start_index + len(lines)))
    return lines
