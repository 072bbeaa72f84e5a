"""Files to documents: Markdown, plain text and HTML become a title and plain-text blocks.

Markdown is rendered to HTML first, so both go through one HTML reader. Blocks (paragraphs,
headings, list items, table rows) are kept apart, one per line, so chunking never glues a heading
to the sentence after it. A document's id is its path relative to the folder it was found in,
without the extension (`cards/lost-card`), or the file's stem when the file was named directly.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from markdown_it import MarkdownIt

from aios.retrieval.errors import DocumentError

MARKDOWN = frozenset({".md", ".markdown"})
TEXT = frozenset({".txt", ".text"})
HTML = frozenset({".html", ".htm"})
SUPPORTED = MARKDOWN | TEXT | HTML

_BLOCKS = frozenset(
    {
        "p",
        "div",
        "br",
        "li",
        "tr",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "pre",
        "blockquote",
        "section",
        "article",
        "dt",
        "dd",
    }
)
_SKIPPED = frozenset({"script", "style", "head", "nav", "noscript", "template"})


@dataclass(frozen=True)
class SourceDocument:
    document_id: str
    title: str
    blocks: tuple[str, ...]
    """Plain-text paragraphs, headings and list items, in reading order."""
    source: str
    content_sha256: str


def discover(paths: Iterable[Path]) -> Iterator[tuple[Path, str]]:
    """Each supported file under `paths` with its document id; a named file of another type is an error."""
    for path in paths:
        if path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED):
                yield file, file.relative_to(path).with_suffix("").as_posix()
        elif path.is_file():
            if path.suffix.lower() not in SUPPORTED:
                raise DocumentError(f"{path}: unsupported type (use {', '.join(sorted(SUPPORTED))})")
            yield path, path.stem
        else:
            raise DocumentError(f"{path}: no such file or folder")


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_document(path: Path, document_id: str) -> SourceDocument:
    """The document in `path`; a file that cannot be decoded or holds no text is a `DocumentError`."""
    try:
        data = path.read_bytes()
        raw = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DocumentError(f"{path}: cannot read as UTF-8 text: {exc}") from exc
    return parse_document(raw, path.suffix.lower(), document_id, str(path), content_hash(data))


def parse_document(raw: str, suffix: str, document_id: str, source: str, sha256: str) -> SourceDocument:
    if suffix in TEXT:
        blocks = [" ".join(block.split()) for block in raw.split("\n\n")]
        blocks = [block for block in blocks if block]
        title = blocks[0][:120] if blocks else ""
    else:
        reader = _HtmlText()
        reader.feed(MarkdownIt("commonmark").enable("table").render(raw) if suffix in MARKDOWN else raw)
        reader.close()
        blocks, title = reader.blocks(), reader.title
        if blocks and title and blocks[0] == title:
            blocks = blocks[1:]  # the title is kept apart; repeating it as a block adds nothing
    if not blocks:
        raise DocumentError(f"{source}: no text")
    return SourceDocument(document_id, title or document_id, tuple(blocks), source, sha256)


class _HtmlText(HTMLParser):
    """Visible text of an HTML page, one entry per block element; the title from <title> or the first <h1>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._blocks: list[str] = []
        self._current: list[str] = []
        self._skipping = 0
        self._in_title = False
        self._in_h1 = False
        self._title_parts: list[str] = []
        self.title = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self._skipping += 1
        if tag == "title":
            self._in_title = True
        if tag in _BLOCKS:
            self._flush()
        if tag == "h1" and not self.title:
            self._in_h1 = True

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED and self._skipping:
            self._skipping -= 1
        if tag == "title":
            self._in_title = False
            self.title = self.title or " ".join("".join(self._title_parts).split())
        if tag == "h1" and self._in_h1:
            self._in_h1 = False
            self.title = self.title or " ".join("".join(self._current).split())
        if tag in _BLOCKS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self._title_parts.append(data)
        elif not self._skipping:
            self._current.append(data)

    def _flush(self) -> None:
        text = " ".join("".join(self._current).split())
        if text:
            self._blocks.append(text)
        self._current = []

    def close(self) -> None:
        super().close()
        self._flush()

    def blocks(self) -> list[str]:
        return list(self._blocks)
