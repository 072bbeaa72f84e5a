"""Line items from an item table found by its header row (description, quantity, unit price, amount)."""

from __future__ import annotations

from aios.documents.candidates import DocumentContext
from aios.documents.models import LineItem


def extract_line_items(context: DocumentContext) -> list[LineItem]:
    return []
