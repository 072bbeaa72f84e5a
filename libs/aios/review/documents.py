"""A document under review: what extract read from it (fields with confidence and box, line items, checks),
and the reviewer's corrections read from the verdict form.

The extraction is the one the extract service kept for the event (`aios.extract.index`, the `documents`
table), looked up by the reviewer's tenant and the item's event id, so a review item names a document only
its own tenant can see. The form names each field `field.<name>` and each line item's cells
`item.<row>.<column>`; a row left empty is no item, so the empty rows under the items add missing ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aios.documents.feedback import (
    LineItemValues,
    ReviewedDocument,
    ReviewedValueError,
    normalised_field,
    normalised_line_item,
)
from aios.documents.line_items import COLUMNS
from aios.documents.models import fields_of
from aios.review.errors import InvalidVerdict
from aios.review.pages import PageSize

MAX_LINE_ITEMS = 500
"""More rows than any invoice the extractor accepts (50 pages) would carry; more is refused, not truncated."""


@dataclass(frozen=True)
class FieldView:
    name: str
    value: str | None
    confidence: float
    page: int | None
    bbox: tuple[float, float, float, float] | None


@dataclass(frozen=True)
class Outline:
    """A field's box on one page, in percent of the page's width and height (for a box drawn over its picture)."""

    name: str
    confidence: float
    left: float
    top: float
    width: float
    height: float


@dataclass(frozen=True)
class DocumentView:
    sha256: str
    media_type: str
    pages: int
    document_type: str
    fields: list[FieldView]
    line_items: list[LineItemValues]
    checks: list[dict[str, Any]]
    extractor_version: str

    @classmethod
    def from_extraction(cls, extraction: Mapping[str, Any]) -> DocumentView | None:
        """From the stored extraction (`DocumentExtracted` as JSON); None for a document that has no fields."""
        document_type = extraction["document_type"]
        if not fields_of(document_type):
            return None
        found = extraction.get("fields") or {}
        fields = []
        for name in fields_of(document_type):
            field = found.get(name) or {}
            bbox = field.get("bbox")
            fields.append(
                FieldView(
                    name,
                    field.get("normalized"),
                    float(field.get("confidence") or 0.0),
                    field.get("page"),
                    (bbox[0], bbox[1], bbox[2], bbox[3]) if bbox and len(bbox) == 4 else None,
                )
            )
        reference = extraction["document"]
        return cls(
            sha256=reference["sha256"],
            media_type=reference["media_type"],
            pages=int(reference["pages"]),
            document_type=document_type,
            fields=fields,
            line_items=[{c: item.get(c) for c in COLUMNS} for item in extraction.get("line_items") or []],
            checks=list(extraction.get("checks") or []),
            extractor_version=extraction.get("extractor_version") or "unknown",
        )

    @property
    def failed_checks(self) -> list[dict[str, Any]]:
        return [check for check in self.checks if check.get("passed") is False]

    def outlines(self, page: int, size: PageSize) -> list[Outline]:
        """The boxes of the fields found on `page` (1-based)."""
        width, height = size
        return [
            Outline(
                f.name,
                f.confidence,
                100 * f.bbox[0] / width,
                100 * f.bbox[1] / height,
                100 * (f.bbox[2] - f.bbox[0]) / width,
                100 * (f.bbox[3] - f.bbox[1]) / height,
            )
            for f in self.fields
            if f.bbox is not None and f.page == page and f.value is not None
        ]


@dataclass(frozen=True)
class Corrections:
    """Every field's and line item's value as the reviewer left them, and which of them they changed."""

    fields: dict[str, str | None]
    line_items: list[LineItemValues]
    changed_fields: dict[str, str | None]
    items_changed: bool

    @property
    def corrected(self) -> list[str]:
        return [*self.changed_fields, *(["line_items"] if self.items_changed else [])]

    def example(
        self, view: DocumentView, review_id: str, tenant_id: str, event_id: str, reviewer: str
    ) -> ReviewedDocument:
        return ReviewedDocument(
            review_id=review_id,
            tenant_id=tenant_id,
            event_id=event_id,
            sha256=view.sha256,
            media_type=view.media_type,
            document_type=view.document_type,
            fields=self.fields,
            line_items=self.line_items,
            corrected=self.corrected,
            extractor_version=view.extractor_version,
            reviewer=reviewer,
        )


def read_corrections(view: DocumentView, form: Mapping[str, str], max_chars: int) -> Corrections:
    """The reviewer's values from the verdict form, normalised as the extractor writes them, or InvalidVerdict."""
    for name, value in form.items():
        if (name.startswith("field.") or name.startswith("item.")) and (len(value) > max_chars or "\x00" in value):
            raise InvalidVerdict(f"{name} is longer than {max_chars} characters or contains a NUL character")
    try:
        fields = {f.name: normalised_field(f.name, form.get(f"field.{f.name}", f.value or "")) for f in view.fields}
        rows: dict[int, dict[str, str]] = {}
        for name, value in form.items():
            parts = name.split(".")
            if len(parts) == 3 and parts[0] == "item" and parts[1].isdigit() and parts[2] in COLUMNS:
                rows.setdefault(int(parts[1]), {})[parts[2]] = value
        if len(rows) > MAX_LINE_ITEMS:
            raise InvalidVerdict(f"the form has {len(rows)} line item rows; at most {MAX_LINE_ITEMS} are accepted")
        submitted = [normalised_line_item(rows[number]) for number in sorted(rows)]
    except ReviewedValueError as exc:
        raise InvalidVerdict(str(exc)) from exc
    line_items = [item for item in submitted if item is not None] if rows else view.line_items
    before = {f.name: f.value for f in view.fields}
    return Corrections(
        fields=fields,
        line_items=line_items,
        changed_fields={name: value for name, value in fields.items() if value != before[name]},
        items_changed=line_items != view.line_items,
    )
