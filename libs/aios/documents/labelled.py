"""Labelled documents: a JSONL file of `{"file", "media_type"?, "type", "fields", "line_items"?}` records.

`file` is relative to the JSONL file's folder. Reviewers' corrections are written in the same form, so the
same file trains (`aios documents train`) and measures (`aios documents eval`).
"""

from __future__ import annotations

import json
import mimetypes
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aios.documents.errors import ExtractorModelError
from aios.documents.synthetic import Generated, truth_record


@dataclass
class Labelled:
    name: str
    data: bytes
    media_type: str
    type: str
    fields: dict[str, str | None]
    line_items: list[dict[str, str]] = field(default_factory=list)
    layout: int | None = None
    scanned: bool = False


def media_type_of(path: Path) -> str:
    guessed = mimetypes.guess_type(path.name)[0]
    return {"image/jpg": "image/jpeg"}.get(guessed or "", guessed or "application/pdf")


def load_labelled(path: Path) -> list[Labelled]:
    documents = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record: dict[str, Any] = json.loads(line)
            file = path.parent / record["file"]
            documents.append(
                Labelled(
                    name=record["file"],
                    data=file.read_bytes(),
                    media_type=record.get("media_type") or media_type_of(file),
                    type=record["type"],
                    fields=dict(record["fields"]),
                    line_items=list(record.get("line_items") or []),
                    layout=record.get("layout"),
                    scanned=bool(record.get("scanned", False)),
                )
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ExtractorModelError(f"{path}:{number}: not a labelled document record ({exc})") from exc
    if not documents:
        raise ExtractorModelError(f"{path} has no labelled documents")
    return documents


def from_generated(document: Generated, name: str) -> Labelled:
    return Labelled(
        name, document.data, document.media_type, document.kind, dict(document.fields),
        list(document.line_items), document.layout, document.scanned,
    )  # fmt: skip


def write_labelled(documents: list[Generated], folder: Path) -> Path:
    """Write the files and `labelled.jsonl` beside them; returns the JSONL path."""
    folder.mkdir(parents=True, exist_ok=True)
    extensions = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg", "image/tiff": "tif"}
    lines = []
    for number, document in enumerate(documents):
        name = f"{document.kind}-{document.layout:02d}-{number:04d}{'-scan' if document.scanned else ''}"
        file = f"{name}.{extensions[document.media_type]}"
        (folder / file).write_bytes(document.data)
        lines.append(json.dumps(truth_record(document, file)))
    target = folder / "labelled.jsonl"
    target.write_text("\n".join(lines) + "\n")
    return target
