"""Line items from item tables, found by their header row rather than by where a vendor puts them.

A header is a line whose segments name at least three of the columns (description, quantity, unit price,
amount) with at least an amount among them; rows follow until a totals label, a wide gap or the page's end. A
table that runs over a page break goes on under the same columns on the next page, with or without a repeated
header. Cells go to the column whose header they overlap most (numbers are right-aligned under theirs).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aios.documents.candidates import DocumentContext
from aios.documents.labels import clean_label, label_match
from aios.documents.layout import Line, Segment, union
from aios.documents.models import LineItem
from aios.documents.normalise import format_amount, parse_amount

HEADER_WORDS: dict[str, tuple[str, ...]] = {
    "description": ("description", "item", "items", "service", "services", "article", "details", "product",
                    "designation", "bezeichnung", "beschreibung", "libellé", "descripción", "position"),
    "quantity": ("qty", "quantity", "units", "hours", "hrs", "menge", "anzahl", "pcs", "quantité", "cantidad", "qté"),
    "unit_price": ("unit price", "price", "rate", "unit cost", "price/unit", "price per unit", "einzelpreis",
                   "prix unitaire", "precio", "unit", "each", "price unit"),
    "amount": ("amount", "total", "line total", "net", "sum", "betrag", "gesamt", "montant", "importe", "value",
               "net amount", "gesamtpreis", "total price"),
}  # fmt: skip
TOTAL_FIELDS = ("subtotal", "total", "tax_amount")
COLUMNS = ("description", "quantity", "unit_price", "amount")


@dataclass
class _Column:
    role: str
    x0: float
    x1: float


def extract_line_items(context: DocumentContext) -> list[LineItem]:
    items: list[LineItem] = []
    columns: list[_Column] | None = None
    open_table = False
    for page in context.pages:
        lines = page.lines
        start = 0
        header_at = next((i for i, line in enumerate(lines) if _header(line) is not None), None)
        if header_at is not None:
            columns = _header(lines[header_at])
            start = header_at + 1
            open_table = True
        elif not open_table or columns is None:
            continue
        assert columns is not None
        open_table = _rows(lines[start:], columns, items)
    return items


def _header(line: Line) -> list[_Column] | None:
    columns: list[_Column] = []
    for segment in line.segments:
        role = _role(segment.text)
        if role is not None and role not in {c.role for c in columns}:
            x0, _, x1, _ = segment.bbox
            columns.append(_Column(role, x0, x1))
    roles = {c.role for c in columns}
    if len(columns) >= 3 and "amount" in roles and "description" in roles:
        return columns
    return None


def _role(text: str) -> str | None:
    cleaned = clean_label(text)
    for role, words in HEADER_WORDS.items():
        if cleaned in words:
            return role
    return None


def _rows(lines: list[Line], columns: list[_Column], items: list[LineItem]) -> bool:
    """Append the rows under `columns`; False once the table ended (totals label or gap), True at page end."""
    previous_bottom: float | None = None
    for line in lines:
        _, top, _, bottom = line.bbox
        height = bottom - top
        if _is_totals(line) or (previous_bottom is not None and top - previous_bottom > 3.5 * height):
            return False
        cells = _cells(line, columns)
        amount = parse_amount(cells.get("amount", ""))
        if amount is None:
            if items and cells.get("description") and len(cells) == 1:
                items[-1].description += " " + cells["description"]
                previous_bottom = bottom
                continue
            if items:
                return False
            continue
        quantity = _number(cells.get("quantity"))
        price = parse_amount(cells.get("unit_price", ""))
        items.append(
            LineItem(
                description=cells.get("description", ""),
                quantity=quantity,
                unit_price=None if price is None else format_amount(price),
                amount=format_amount(amount),
                page=line.page,
                bbox=union(line.words),
            )
        )
        previous_bottom = bottom
    return True


def _is_totals(line: Line) -> bool:
    for segment in line.segments:
        scores = label_match(segment.text)
        if any(scores.get(name, 0.0) >= 1.0 for name in TOTAL_FIELDS) and _role(segment.text) is None:
            return True
        if any(scores.get(name, 0.0) >= 1.0 for name in ("subtotal", "tax_amount")):
            return True
    return False


def _cells(line: Line, columns: list[_Column]) -> dict[str, str]:
    cells: dict[str, list[Segment]] = {}
    for segment in line.segments:
        x0, _, x1, _ = segment.bbox
        best = max(columns, key=lambda c: _affinity(c, x0, x1))
        cells.setdefault(best.role, []).append(segment)
    return {role: " ".join(s.text for s in segments) for role, segments in cells.items()}


def _affinity(column: _Column, x0: float, x1: float) -> float:
    """Overlap with the header's extent, then closeness of the aligned edge (left for text, right for numbers)."""
    overlap = max(0.0, min(x1, column.x1) - max(x0, column.x0))
    edge = abs(x0 - column.x0) if column.role == "description" else abs(x1 - column.x1)
    return overlap - 0.5 * edge


def _number(text: str | None) -> str | None:
    """A quantity as a plain decimal without trailing zeros: '2', '2.5'."""
    if not text or not re.search(r"\d", text):
        return None
    value = parse_amount(text.split()[0])
    if value is None:
        return None
    normal = value.normalize()
    return f"{normal:f}" if normal != normal.to_integral() else str(int(normal))
