"""Reviewers' corrections exported as labelled documents train the extractor: corrections of one layout raise
that layout's field accuracy on its pages that were not corrected."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest

from aios.documents.extraction import extract_document
from aios.documents.feedback import ReviewedDocument, ReviewedValueError, normalised_field, write_examples
from aios.documents.labelled import from_generated, load_labelled
from aios.documents.line_items import COLUMNS
from aios.documents.registry import default_extractor
from aios.documents.synthetic import LAYOUTS, dataset, generate
from aios.documents.training import CORRECTION_WEIGHT, evaluate, train
from tests.unit.documents.test_training import UNSEEN_LABELS, odd_layout


def reviewed(seed: int, tenant: str = "acme") -> tuple[ReviewedDocument, bytes]:
    """A document of the odd layout as a reviewer approves it: every field corrected to its true value."""
    document = generate(seed, 0, spec=odd_layout())
    read = extract_document(document.data, media_type=document.media_type, declared_type="auto")
    extracted = read.field_values()
    sha = hashlib.sha256(document.data).hexdigest()
    return (
        ReviewedDocument(
            review_id=f"r-{seed}",
            tenant_id=tenant,
            event_id=f"e-{seed}",
            sha256=sha,
            media_type=document.media_type,
            document_type=document.kind,
            fields=dict(document.fields),
            line_items=[{column: item.get(column) for column in COLUMNS} for item in document.line_items],
            corrected=[name for name, value in document.fields.items() if extracted.get(name) != value],
            extractor_version=read.extractor_version,
            reviewer="alice",
        ),
        document.data,
    )


def test_exported_corrections_are_labelled_documents_that_train(tmp_path: Path) -> None:
    stored = [reviewed(seed) for seed in range(0, 6)]
    examples = [example for example, _ in stored]
    blobs = {(e.tenant_id, e.sha256): data for e, data in stored}
    fetched: list[str] = []

    async def fetch(tenant: str, sha256: str) -> bytes:
        fetched.append(sha256)
        return blobs[(tenant, sha256)]

    path, count = asyncio.run(write_examples(examples + examples[:1], fetch, tmp_path / "feedback"))
    assert count == 7 and len(fetched) == 6  # a document reviewed twice is written once
    corrections = load_labelled(path)
    assert [c.fields for c in corrections[:6]] == [e.fields for e in examples]
    assert corrections[0].data == blobs[(examples[0].tenant_id, examples[0].sha256)]
    assert any(set(UNSEEN_LABELS) & set(e.corrected) for e in examples)

    later = [from_generated(generate(seed, 0, spec=odd_layout()), f"later-{seed}") for seed in range(100, 106)]
    before = evaluate(later, default_extractor())
    base = [from_generated(g, f"base-{n}") for n, g in enumerate(dataset(list(range(0, LAYOUTS - 12, 2)), 1))]
    retrained = train(base + corrections, document_weights=[1.0] * len(base) + [CORRECTION_WEIGHT] * len(corrections))
    after = evaluate(later, retrained)
    assert after.summary()["fields"] > before.summary()["fields"], (before.summary(), after.summary())
    assert all(after.field_correct[name] == len(later) for name in UNSEEN_LABELS), after.errors
    assert sum(after.field_correct[n] for n in UNSEEN_LABELS) > sum(before.field_correct[n] for n in UNSEEN_LABELS)


@pytest.mark.parametrize(
    ("name", "typed", "normal"),
    [
        ("total", "1.234,50", "1234.50"),
        ("invoice_date", "2026-03-04", "2026-03-04"),
        ("iban", "de89 3704 0044 0532 0130 00", "DE89370400440532013000"),
        ("currency", "$", "USD"),
        ("vendor_name", "  Acme   GmbH ", "Acme GmbH"),
        ("loss_type", "fire", "fire"),
        ("po_number", "", None),
    ],
)
def test_a_reviewers_value_is_written_in_the_extractors_normal_form(name: str, typed: str, normal: str | None) -> None:
    assert normalised_field(name, typed) == normal


def test_a_loss_type_outside_the_list_is_refused() -> None:
    with pytest.raises(ReviewedValueError, match="water_damage"):
        normalised_field("loss_type", "meteor")
