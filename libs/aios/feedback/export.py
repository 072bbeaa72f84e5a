"""Labelled examples (approvals and relabels from human review) to a CSV `aios model train` reads.

Columns `text,label`, one row per reviewed event, oldest first; the same event reviewed once
gives one row. Train with `aios model train --data FILE --text-col text --label-col label`.
"""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import asyncpg


async def labelled_examples(pool: asyncpg.Pool, tenant_id: str, since: datetime | None = None) -> list[tuple[str, str]]:
    rows = await pool.fetch(
        "SELECT text, label FROM labelled_examples"
        " WHERE tenant_id = $1 AND ($2::timestamptz IS NULL OR created_at >= $2) ORDER BY created_at, review_id",
        tenant_id,
        since,
    )
    return [(row["text"], row["label"]) for row in rows]


def write_csv(examples: list[tuple[str, str]], path: Path) -> None:
    """Written to a temporary file first, so a reader never sees half a file."""
    partial = path.with_name(path.name + ".partial")
    with partial.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(examples)
    partial.replace(path)
