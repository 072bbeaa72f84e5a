"""Documents as reviewers approved them: labelled examples for the extractor, from the review pages' corrections.

Each completed review of a document keeps the fields and line items the reviewer left (corrected or confirmed)
in PostgreSQL (`document_examples`, migration 0033). `aios documents feedback export` writes them with their
bytes, fetched again from the object store by tenant and SHA-256, as the labelled JSONL that
`aios documents train` and `aios documents eval` read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import asyncpg

from aios.documents.candidates import FIELD_KINDS
from aios.documents.line_items import COLUMNS
from aios.documents.models import LOSS_TYPES
from aios.documents.normalise import normalise_amount, normalise_currency, normalise_iban, normalise_tax_id

LineItemValues = dict[str, str | None]
EXTENSIONS = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg", "image/tiff": "tif"}


class ReviewedValueError(ValueError):
    """A value a reviewer typed that is not one of its field's form (the message says which form)."""


@dataclass(frozen=True)
class ReviewedDocument:
    """One document as a reviewer approved it: every field's true value and the line items."""

    review_id: str
    tenant_id: str
    event_id: str
    sha256: str
    media_type: str
    document_type: str
    fields: dict[str, str | None]
    line_items: list[LineItemValues]
    corrected: list[str]
    """The fields the reviewer changed, and `line_items` when the items were; empty when all was confirmed."""
    extractor_version: str
    reviewer: str
    created_at: datetime | None = None


def normalised_field(name: str, text: str) -> str | None:
    """A reviewer's value in the extractor's normal form (dates YYYY-MM-DD, amounts '1234.50', …); '' is None."""
    text = text.strip()
    if not text:
        return None
    kind = FIELD_KINDS.get(name, "text")
    if kind == "amount":
        return _required(normalise_amount(text), name, text, "an amount such as 1234.50")
    if kind == "date":
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise ReviewedValueError(f"{name} {text!r} is not a date written YYYY-MM-DD") from None
    if kind == "currency":
        return _required(normalise_currency(text), name, text, "an ISO 4217 currency such as EUR")
    if kind == "iban":
        return _required(normalise_iban(text), name, text, "an IBAN")
    if kind == "tax_id":
        return normalise_tax_id(text) or re.sub(r"\s", "", text).upper()
    if kind == "loss_type":
        return _required(text if text in LOSS_TYPES else None, name, text, f"one of {', '.join(LOSS_TYPES)}")
    return re.sub(r"\s+", " ", text)


def normalised_line_item(cells: Mapping[str, str]) -> LineItemValues | None:
    """A line item from what a reviewer typed in its row; None for a row left empty."""
    values = {column: cells.get(column, "").strip() for column in COLUMNS}
    if not any(values.values()):
        return None
    item: LineItemValues = {"description": re.sub(r"\s+", " ", values["description"]) or None}
    quantity = values["quantity"]
    if quantity:
        try:
            number = Decimal(quantity.replace(",", ".")).normalize()
        except InvalidOperation:
            raise ReviewedValueError(f"quantity {quantity!r} is not a number") from None
        item["quantity"] = f"{number:f}" if number != number.to_integral() else str(int(number))
    else:
        item["quantity"] = None
    for column in ("unit_price", "amount"):
        text = values[column]
        item[column] = _required(normalise_amount(text), column, text, "an amount such as 12.50") if text else None
    return item


def _required(value: str | None, name: str, text: str, form: str) -> str:
    if value is None:
        raise ReviewedValueError(f"{name} {text!r} is not {form}")
    return value


async def store_example(conn: asyncpg.Connection, example: ReviewedDocument) -> None:
    """In the caller's transaction (the verdict's): one example per review, never two."""
    await conn.execute(
        "INSERT INTO document_examples (review_id, tenant_id, event_id, sha256, media_type, document_type, fields,"
        " line_items, corrected, extractor_version, reviewer) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb,"
        " $9, $10, $11) ON CONFLICT (review_id) DO NOTHING",
        example.review_id,
        example.tenant_id,
        example.event_id,
        example.sha256,
        example.media_type,
        example.document_type,
        json.dumps(example.fields),
        json.dumps(example.line_items),
        example.corrected,
        example.extractor_version,
        example.reviewer,
    )


async def reviewed_documents(
    pool: asyncpg.Pool,
    tenant_id: str | None = None,
    since: datetime | None = None,
    *,
    corrected_only: bool = False,
) -> list[ReviewedDocument]:
    """The stored examples, oldest first: one tenant's or all, from `since` on, all or only the changed ones."""
    rows = await pool.fetch(
        "SELECT * FROM document_examples WHERE ($1::text IS NULL OR tenant_id = $1)"
        " AND ($2::timestamptz IS NULL OR created_at >= $2) AND (NOT $3 OR cardinality(corrected) > 0)"
        " ORDER BY created_at, review_id",
        tenant_id,
        since,
        corrected_only,
    )
    return [
        ReviewedDocument(
            **{
                **dict(row),
                "fields": json.loads(row["fields"]),
                "line_items": json.loads(row["line_items"]),
                "corrected": list(row["corrected"]),
            }
        )
        for row in rows
    ]


async def write_examples(
    examples: Sequence[ReviewedDocument], fetch: Callable[[str, str], Awaitable[bytes]], folder: Path
) -> tuple[Path, int]:
    """Each example's file (fetched by tenant and SHA-256, written once) and `labelled.jsonl` beside them.

    Returns the JSONL path and how many examples it holds.
    """
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for example in examples:
        file = f"{example.tenant_id}-{example.sha256}.{EXTENSIONS.get(example.media_type, 'bin')}"
        if not (folder / file).exists():
            (folder / file).write_bytes(await fetch(example.tenant_id, example.sha256))
        lines.append(json.dumps(_labelled_record(example, file), ensure_ascii=False))
    target = folder / "labelled.jsonl"
    target.write_text("".join(f"{line}\n" for line in lines))
    return target, len(lines)


def _labelled_record(example: ReviewedDocument, file: str) -> dict[str, Any]:
    """The labelled-document form (`aios.documents.labelled`), with where it came from."""
    return {
        "file": file,
        "media_type": example.media_type,
        "type": example.document_type,
        "fields": example.fields,
        "line_items": example.line_items,
        "tenant_id": example.tenant_id,
        "event_id": example.event_id,
        "review_id": example.review_id,
        "reviewer": example.reviewer,
        "corrected": example.corrected,
        "extractor_version": example.extractor_version,
    }
