"""Candidate values for each field, and the features a scorer judges them by.

A candidate is any span on the page that parses as the field's kind of value (a date, an amount, an
identifier, a name...), together with its context: an inline label before it in the same segment, the
segment to its left, the segment above it in the same column, its size and place on the page. Nothing here
knows a layout; the scorer (rules or a learnt model) decides which candidate is the field.
"""

from __future__ import annotations

import zlib
from collections import Counter
from dataclasses import dataclass, field
from statistics import median

from aios.documents import normalise as norm
from aios.documents.labels import LABEL_FIELDS, is_label, label_match
from aios.documents.layout import Line, Page, Segment, Word, WordSpan

FIELD_KINDS: dict[str, str] = {
    "invoice_number": "id",
    "invoice_date": "date",
    "due_date": "date",
    "vendor_name": "name",
    "vendor_tax_id": "tax_id",
    "customer_name": "name",
    "currency": "currency",
    "subtotal": "amount",
    "tax_amount": "amount",
    "total": "amount",
    "iban": "iban",
    "po_number": "id",
    "claim_number": "id",
    "policy_number": "id",
    "claimant_name": "name",
    "date_of_loss": "date",
    "loss_type": "loss_type",
    "claimed_amount": "amount",
}
TITLE_WORDS = frozenset(
    ("invoice", "rechnung", "facture", "factura", "bill", "claim", "form", "notice", "notification")
)
"""Words of a document's title, never of a party's name."""
HASH_BUCKETS = 64
"""Label words are hashed into this many buckets per context, so a model can learn labels no list has."""


@dataclass
class Candidate(WordSpan):
    kind: str
    value: str
    words: list[Word]
    line: Line
    inline_label: str = ""
    left_label: str = ""
    above_label: str = ""
    above_gap: float = 99.0
    """Lines between the candidate and the segment above it (1: directly under it)."""
    features: dict[str, float] = field(default_factory=dict)


@dataclass
class DocumentContext:
    """What candidates are measured against: the pages, their lines in reading order, the usual text height."""

    pages: list[Page]
    lines: list[Line]
    body_height: float
    date_order: norm.DateOrder
    amount_currencies: Counter[str]
    currency_words: dict[str, Word]
    """Where each currency is first printed."""


def build_context(pages: list[Page]) -> DocumentContext:
    lines = [line for page in pages for line in page.lines]
    heights = [w.height for line in lines for w in line.words] or [10.0]
    currencies: Counter[str] = Counter()
    currency_words: dict[str, Word] = {}
    hints: Counter[str] = Counter()
    for line in lines:
        for word in line.words:
            hint = norm.numeric_date_order_hint(word.text)
            if hint:
                hints[hint] += 1
            code = _currency_of(word, lines)
            if code:
                currencies[code] += 1
                currency_words.setdefault(code, word)
    if hints:
        order = hints.most_common(1)[0][0]
    else:
        order = "MDY" if currencies and currencies.most_common(1)[0][0] == "USD" else "DMY"
    return DocumentContext(pages, lines, median(heights), order, currencies, currency_words)


def _currency_of(word: Word, lines: list[Line]) -> str | None:
    """The currency a word prints: a code, a symbol, 'kr', or one attached to an amount ('€12.50')."""
    code = norm.normalise_currency(word.text)
    if code and (word.text.isupper() or word.text in norm.CURRENCY_SYMBOLS):
        return code
    if word.text.lower().strip(".:") == "kr":
        return _krona(lines)
    if norm.parse_amount(word.text) is not None:
        return norm.strip_currency(word.text)[1]
    return None


def _krona(lines: list[Line]) -> str:
    """'kr' is Swedish, Norwegian, Danish or Icelandic: the country of the document's IBAN or VAT id decides."""
    for line in lines:
        for word in line.words:
            country = word.text[:2].upper()
            if country in norm.KRONA and (norm.normalise_iban(word.text) or norm.normalise_tax_id(word.text)):
                return norm.KRONA[country]
    return "SEK"


def parse_value(kind: str, text: str, context: DocumentContext) -> str | None:
    """The normalised value of `text` as a `kind`, or None."""
    if kind == "date":
        parsed = norm.parse_date(text, context.date_order)
        return parsed.isoformat() if parsed else None
    if kind == "amount":
        if norm.date_parts(text) is not None or len(text) > 24:
            return None
        return norm.normalise_amount(text)
    if kind == "id":
        if norm.date_parts(text) is not None or (norm.parse_amount(text) is not None and "," in text):
            return None
        return norm.normalise_identifier(text)
    if kind == "iban":
        return norm.normalise_iban(text)
    if kind == "tax_id":
        return norm.normalise_tax_id(text)
    if kind == "currency":
        return norm.normalise_currency(text)
    if kind == "loss_type":
        return norm.normalise_loss_type(text)
    if kind == "name":
        return _name(text)
    raise ValueError(kind)


def _name(text: str) -> str | None:
    text = text.strip(" :,;")
    letters = sum(c.isalpha() for c in text)
    digits = sum(c.isdigit() for c in text)
    if letters < 3 or digits > 0 or len(text.split()) > 7 or is_label(text) or "@" in text:
        return None
    if TITLE_WORDS & set(text.lower().split()):
        return None
    return " ".join(text.split())


def candidates_for(kind: str, context: DocumentContext) -> list[Candidate]:
    """Every span (a segment, or the part of it after an inline label) that parses as `kind`."""
    found: list[Candidate] = []
    for line_number, line in enumerate(context.lines):
        for position, segment in enumerate(line.segments):
            words = segment.words
            for k in range(len(words)):
                prefix = " ".join(w.text for w in words[:k])
                if k and kind in ("name", "loss_type") and not (prefix.endswith(":") or is_label(prefix)):
                    continue
                text = " ".join(w.text for w in words[k:])
                value = parse_value(kind, text, context)
                if value is None:
                    continue
                candidate = Candidate(kind, value, words[k:], line, inline_label=prefix)
                candidate.left_label = line.segments[position - 1].text if position else ""
                candidate.above_label, candidate.above_gap = _above(context, line_number, segment)
                candidate.features = _features(candidate, context)
                found.append(candidate)
                break
    return found


def _above(context: DocumentContext, line_number: int, segment: Segment) -> tuple[str, float]:
    """The nearest segment above that shares the candidate's column, within three lines on the same page."""
    x0, _, x1, _ = segment.bbox
    line = context.lines[line_number]
    for gap in range(1, 4):
        index = line_number - gap
        if index < 0 or context.lines[index].page != line.page:
            break
        for other in context.lines[index].segments:
            ox0, _, ox1, _ = other.bbox
            if min(x1, ox1) - max(x0, ox0) > 0.3 * min(x1 - x0, ox1 - ox0) or abs(ox0 - x0) < 4:
                return other.text, float(gap)
    return "", 99.0


def _features(candidate: Candidate, context: DocumentContext) -> dict[str, float]:
    page = context.pages[candidate.page - 1]
    x0, y0, x1, y1 = candidate.bbox
    features: dict[str, float] = {
        "x": x0 / page.width,
        "y": y0 / page.height,
        "right": x1 / page.width,
        "first_page": float(candidate.page == 1),
        "last_page": float(candidate.page == len(context.pages)),
        "size": (y1 - y0) / context.body_height,
        "line_segments": float(len(candidate.line.segments)),
        "inline": float(bool(candidate.inline_label)),
        "above_gap": min(candidate.above_gap, 5.0),
        "line_rank": candidate.line.index / max(len(context.lines), 1),
    }
    for context_name, text, weight in (
        ("inline", candidate.inline_label, 1.0),
        ("left", candidate.left_label, 1.0),
        ("above", candidate.above_label, 1.0 if candidate.above_gap <= 1 else 0.5),
    ):
        for field_name, score in label_match(text).items():
            features[f"{context_name}:{field_name}"] = score * weight
        for word in text.lower().replace(":", " ").split():
            bucket = zlib.crc32(word.encode()) % HASH_BUCKETS
            features[f"{context_name}#{bucket}"] = 1.0
    return features


def feature_names() -> list[str]:
    """The fixed order of feature columns for the learnt scorer."""
    names = ["x", "y", "right", "first_page", "last_page", "size", "line_segments", "inline", "above_gap", "line_rank"]
    for context_name in ("inline", "left", "above"):
        names += [f"{context_name}:{field_name}" for field_name in LABEL_FIELDS]
        names += [f"{context_name}#{bucket}" for bucket in range(HASH_BUCKETS)]
    names += ["amount_rank", "amount_is_max", "kind_count"]
    return names


def add_document_features(candidates: list[Candidate]) -> None:
    """Features that compare a candidate with the others of its kind (the largest amount is usually the total)."""
    if not candidates:
        return
    if candidates[0].kind == "amount":
        values = sorted({float(c.value) for c in candidates}, reverse=True)
        for candidate in candidates:
            rank = values.index(float(candidate.value))
            candidate.features["amount_rank"] = min(rank, 10) / 10
            candidate.features["amount_is_max"] = float(rank == 0)
    for candidate in candidates:
        candidate.features["kind_count"] = min(len(candidates), 50) / 50
