"""Training the learnt field scorer from labelled documents, and measuring any extractor on them.

Every candidate of a field is an example: positive when its normalised value equals the document's true value.
Reviewers' corrections are labelled documents too, so a layout the scorer got wrong teaches it that layout's
labels (through the hashed label words) without a template.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.linear_model import LogisticRegression

from aios.documents.candidates import FIELD_KINDS, feature_names
from aios.documents.errors import DocumentRejected, ExtractorModelError
from aios.documents.extraction import candidates_by_kind, extract_document, lay_out, read
from aios.documents.extractor import RULE_FEATURE, FieldExtractor, LearnedExtractor
from aios.documents.labelled import Labelled
from aios.documents.models import fields_of
from aios.documents.settings import ExtractionSettings

Progress = Callable[[int, int], None]


def data_sha256(documents: Sequence[Labelled]) -> str:
    digest = hashlib.sha256()
    for document in documents:
        digest.update(hashlib.sha256(document.data).digest())
        digest.update(json.dumps(document.fields, sort_keys=True).encode())
    return digest.hexdigest()


def train(
    documents: Sequence[Labelled],
    settings: ExtractionSettings | None = None,
    *,
    version: str = "unregistered",
    regularisation: float = 1.0,
    on_document: Progress | None = None,
) -> LearnedExtractor:
    """One logistic regression per field over every candidate of every labelled document."""
    settings = settings or ExtractionSettings()
    names = [*feature_names(), RULE_FEATURE]
    template = LearnedExtractor({"features": names, "fields": {}}, version)
    rows: dict[str, list[np.ndarray]] = defaultdict(list)
    targets: dict[str, list[int]] = defaultdict(list)
    for number, document in enumerate(documents, start=1):
        try:
            read_document = read(document.data, document.media_type, settings)
        except DocumentRejected:
            continue
        try:
            context = lay_out(read_document)
            fields = fields_of(document.type)
            by_kind = candidates_by_kind(fields, context)
            for name in fields:
                truth = document.fields.get(name)
                for candidate in by_kind[FIELD_KINDS[name]]:
                    rows[name].append(template.vector(name, candidate))
                    targets[name].append(int(truth is not None and candidate.value == truth))
        finally:
            read_document.close()
        if on_document:
            on_document(number, len(documents))
    weights: dict[str, dict[str, object]] = {}
    for name, matrix in rows.items():
        y = np.asarray(targets[name])
        if y.min() == y.max():
            continue  # no positive (or no negative) example: the rules keep scoring this field
        model = LogisticRegression(C=regularisation, max_iter=3000)
        model.fit(np.stack(matrix), y)
        weights[name] = {"coef": model.coef_[0].tolist(), "intercept": float(model.intercept_[0])}
    if not weights:
        raise ExtractorModelError("no field had both right and wrong candidates: nothing to learn from")
    return LearnedExtractor({"features": names, "fields": weights}, version)


@dataclass
class Evaluation:
    """Accuracy on labelled documents: scalar fields exact after normalisation, line items, document type."""

    field_correct: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    field_total: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    items_correct: int = 0
    items_total: int = 0
    type_correct: int = 0
    documents: int = 0
    rejected: int = 0
    errors: list[str] = field(default_factory=list)

    def field_accuracy(self) -> dict[str, float]:
        return {name: round(self.field_correct[name] / total, 4) for name, total in sorted(self.field_total.items())}

    def summary(self) -> dict[str, float | int]:
        total = sum(self.field_total.values())
        return {
            "documents": self.documents,
            "rejected": self.rejected,
            "fields": round(sum(self.field_correct.values()) / total, 4) if total else 0.0,
            "line_items": round(self.items_correct / self.items_total, 4) if self.items_total else 1.0,
            "type": round(self.type_correct / self.documents, 4) if self.documents else 0.0,
        }


def evaluate(
    documents: Sequence[Labelled],
    extractor: FieldExtractor | None = None,
    settings: ExtractionSettings | None = None,
    *,
    on_document: Progress | None = None,
) -> Evaluation:
    """Extract each document with `auto` type and compare with its truth; a rejected document counts as wrong."""
    result = Evaluation()
    for number, document in enumerate(documents, start=1):
        result.documents += 1
        truth_fields = fields_of(document.type)
        try:
            extraction = extract_document(
                document.data, media_type=document.media_type, declared_type="auto", settings=settings,
                extractor=extractor,
            )  # fmt: skip
        except DocumentRejected as exc:
            result.rejected += 1
            result.errors.append(f"{document.name}: rejected ({exc.reason})")
            extraction = None
        values = extraction.field_values() if extraction else {}
        if extraction is not None and extraction.document_type == document.type:
            result.type_correct += 1
        for name in truth_fields:
            result.field_total[name] += 1
            if values.get(name) == document.fields.get(name):
                result.field_correct[name] += 1
            elif len(result.errors) < 200:
                result.errors.append(f"{document.name}: {name} {values.get(name)!r} != {document.fields.get(name)!r}")
        if document.type == "invoice":
            predicted = [i.model_dump(include={"description", "quantity", "unit_price", "amount"})
                         for i in (extraction.line_items if extraction else [])]  # fmt: skip
            result.items_total += max(len(predicted), len(document.line_items))
            result.items_correct += sum(1 for p, t in zip(predicted, document.line_items, strict=False) if p == t)
        if on_document:
            on_document(number, len(documents))
    return result
