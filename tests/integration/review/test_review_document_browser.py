"""Review beside the document, in a real headless Chromium: the page picture with each found field outlined,
the values with their confidence and the failed checks; the reviewer corrects fields, adds the line item the
extractor missed, approves; decide takes the signed verdict, the correction is kept and exported as labelled
data for `aios documents train`.

The document is a real PDF (the generator's held-out layout 36 with labels no synonym list knows, so the
extractor misses the issue date and takes a line amount for the total), stored in SeaweedFS; its extraction is
the real extractor's, kept as the extract service keeps it, except that its last line item is dropped (as if
the extractor had missed it) for the reviewer to add. The event reaches review through decide and the demo
policy's `document-needs-review` rule, as extract's output does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from playwright.sync_api import Browser

from aios.db.pool import run_on_database
from aios.db.scratch import scratch_database
from aios.documents.extraction import extract_document
from aios.documents.labelled import load_labelled
from aios.documents.line_items import COLUMNS
from aios.documents.synthetic import Generated, generate
from aios.extract.index import DocumentIndex, DocumentKeys
from aios.kafka.scratch import ScratchTopics
from aios.keys.documents import sealed_store
from aios.objects.store import StoredObject
from aios.paths import project_root
from aios.settings import ConnectionSettings
from aios.stack.stack import LocalStack
from tests.support.cli import aios
from tests.support.decide import DecideTopics, TopicIO, create_tenant_with_policy, enriched_value
from tests.support.review import add_reviewer
from tests.support.review_browser import (
    DEMO_POLICY,
    PASSWORD,
    UPDATE_SCREENSHOTS,
    Env,
    chromium,
    decision_of,
    review_desk,
    review_id_of,
    sign_in,
    wait_for_queue,
)
from tests.unit.documents.test_training import odd_layout


@dataclass
class Case:
    """The document under review and its event."""

    document: Generated
    event_id: str


def kept_extraction(document: Generated, tenant_id: str, sha256: str, bucket: str, key: str) -> dict[str, Any]:
    """The real extractor's reading, as extract keeps it for the event (`DocumentExtracted` as JSON)."""
    read = extract_document(document.data, media_type=document.media_type, declared_type="auto")
    return {
        "document": {
            "tenant_id": tenant_id, "sha256": sha256, "media_type": document.media_type,
            "size_bytes": len(document.data), "pages": read.page_count, "bucket": bucket, "object_key": key,
        },
        "declared_type": "auto",
        "document_type": read.document_type,
        "type_confidence": read.type_confidence,
        "fields": {
            name: {"normalized": None, "confidence": 0.0, "page": None, "bbox": None} if found is None
            else {"normalized": found.value, "confidence": found.confidence, "page": found.page,
                  "bbox": list(found.bbox)}
            for name, found in read.fields.items()
        },
        # The last line item left out: the line the reviewer adds.
        "line_items": [item.model_dump(include=set(COLUMNS)) for item in read.line_items[:-1]],
        "checks": [check.model_dump() for check in read.checks],
        "duplicate_of": None,
        "review_reason": "checks failed: subtotal_plus_tax_is_total",
        "ocr_engine": read.ocr_engine,
        "extractor_version": read.extractor_version,
        "timings_ms": {},
    }  # fmt: skip


@pytest.fixture(scope="module")
def running(
    connection: ConnectionSettings, local_stack: LocalStack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Env, Case]]:
    assert local_stack.seaweedfs.healthy(), "SeaweedFS is not running: `aios stack up` starts it"
    log_dir = tmp_path_factory.mktemp("review-document")
    with (
        ScratchTopics(connection.kafka_bootstrap, connection.schema_registry_url) as scratch,
        scratch_database(connection.postgres_dsn.get_secret_value()) as dsn,
    ):
        topics = DecideTopics.make(scratch.make)
        acme = create_tenant_with_policy(dsn, "acme", DEMO_POLICY)
        create_tenant_with_policy(dsn, "globex", DEMO_POLICY)
        add_reviewer(dsn, "acme", "alice", PASSWORD)
        add_reviewer(dsn, "globex", "bob", PASSWORD)

        document = generate(0, 0, spec=odd_layout())

        async def put(pool: asyncpg.Pool) -> StoredObject:
            return await sealed_store(pool).put(acme, document.data, document.media_type)

        stored = run_on_database(put, dsn)
        extraction = kept_extraction(document, acme, stored.sha256, stored.bucket, stored.object_key)
        fields = {name: f["normalized"] for name, f in extraction["fields"].items() if f["normalized"] is not None}
        event = enriched_value(
            acme,
            text="Invoice R553760 from Falcon Supplies LLC",
            label="invoice",
            confidence=0.99,
            draft=None,
            event_type="document.invoice",
            attributes={
                "document_sha256": stored.sha256,
                "document_object_key": stored.object_key,
                "document_media_type": document.media_type,
                "document_pages": str(extraction["document"]["pages"]),
                "document_type": "invoice",
                "document_review_reason": extraction["review_reason"],
                **{f"field_{name}": value for name, value in fields.items()},
            },
        )

        async def keep(pool: asyncpg.Pool) -> None:
            keys = DocumentKeys(stored.sha256, None, None, fields.get("invoice_number"), None)
            await DocumentIndex(pool).record(acme, event["event_id"], event["occurred_at"], "invoice", keys, extraction)

        run_on_database(keep, dsn)
        with review_desk(connection, topics, dsn, log_dir, page_cache_dir=str(log_dir / "pages")) as review:
            io = TopicIO(connection, topics)
            io.produce(topics.enriched, [event])
            yield (
                Env(review.url, dsn, topics, io, acme, {"document": event}, overdue_review_id=""),
                Case(document, event["event_id"]),
            )


@pytest.fixture(scope="module")
def env(running: tuple[Env, Case]) -> Env:
    return running[0]


@pytest.fixture(scope="module")
def case(running: tuple[Env, Case]) -> Case:
    return running[1]


@pytest.fixture(scope="module")
def browser(env: Env) -> Iterator[Browser]:
    with chromium() as started:
        yield started


def test_correct_fields_add_a_line_item_approve_and_export(
    browser: Browser, env: Env, case: Case, tmp_path: Path
) -> None:
    screenshots = project_root() / "docs" / "img" if UPDATE_SCREENSHOTS else tmp_path
    truth = case.document.fields
    context, page = sign_in(browser, env, "acme", "alice")
    wait_for_queue(page, env, 1)
    review_id = review_id_of(page, "Falcon Supplies")
    page.goto(f"{env.url}/items/{review_id}")

    # The page picture, loaded under the strict CSP, with the fields outlined where they were read.
    picture = page.locator("#page-1 img")
    assert picture.evaluate("img => img.complete && img.naturalWidth") > 0
    outlined = {o.get_attribute("data-field") for o in page.locator("#page-1 .outline").all()}
    assert {"invoice_number", "vendor_name", "total", "iban"} <= outlined and "invoice_date" not in outlined
    frame, box = picture.bounding_box(), page.locator("#page-1 .outline[data-field=total]").bounding_box()
    assert frame and box and frame["x"] <= box["x"] < box["x"] + box["width"] <= frame["x"] + frame["width"]
    # Values with their confidence, and the check that failed.
    total_row = page.locator("#fields tr[data-field=total]")
    assert "6236.20" in total_row.inner_text() and "0.81" in total_row.inner_text()
    assert "subtotal_plus_tax_is_total" in page.inner_text("#checks .failed-check")
    assert len(page.locator("#line-items tr.line-item").all()) == len(case.document.line_items) - 1

    page.click("#claim")
    page.wait_for_selector("#field-total")
    page.fill("#field-total", truth["total"] or "")
    page.fill("#field-invoice_date", truth["invoice_date"] or "")
    missing = case.document.line_items[-1]
    new_row = page.locator("#line-items tr.new-line-item").first
    for column in COLUMNS:
        new_row.locator(f"input[name$='.{column}']").fill(missing[column])
    # The page, the fields and the approve button; the event's attributes and passages below are left out.
    bottom = page.eval_on_selector("#approve", "b => b.getBoundingClientRect().bottom + window.scrollY")
    page.screenshot(
        path=str(screenshots / "review-document.png"),
        full_page=True,
        clip={"x": 0, "y": 0, "width": 1280, "height": bottom + 24},
    )
    page.click("#approve")
    page.wait_for_url(f"{env.url}/?done={review_id}")

    # Another tenant's reviewer gets no page of it; nor is there a page the document does not have.
    assert page.request.get(f"{env.url}/items/{review_id}/pages/2.png").status == 404
    bob_context, bob = sign_in(browser, env, "globex", "bob")
    assert bob.request.get(f"{env.url}/items/{review_id}/pages/1.png").status == 404
    bob_context.close()
    context.close()

    # The verdict carries the changes, signed: decide verified it and decided.
    [verdict] = [
        v
        for v in env.io.read(env.topics.completed, lambda vs: any(v["review_id"] == review_id for v in vs))
        if v["review_id"] == review_id
    ]
    assert verdict["corrected_fields"] == {"total": truth["total"], "invoice_date": truth["invoice_date"]}
    assert verdict["line_items"] == case.document.line_items
    scraped = httpx.get(env.url + "/metrics").text
    for field in ("total", "invoice_date", "line_items"):
        labels = f'document_type="invoice",field="{field}",service="review",tenant="{env.acme}"'
        assert f"aios_review_field_corrections_total{{{labels}}} 1.0" in scraped, field
    decision = decision_of(env, case.event_id)
    assert (decision["outcome"], decision["reviewer"]) == ("APPROVED", "alice")

    # Kept as a labelled example, exported as `aios documents train` reads it.
    out = tmp_path / "feedback"
    exported = aios(
        "documents", "feedback", "export", "--tenant", "acme", "--out", str(out), "--json",
        env={"AIOS_POSTGRES_DSN": env.dsn},
    )  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout) == {"labelled": str(out / "labelled.jsonl"), "documents": 1, "corrected": 1}
    record = json.loads((out / "labelled.jsonl").read_text())
    assert sorted(record["corrected"]) == ["invoice_date", "line_items", "total"]
    [example] = load_labelled(out / "labelled.jsonl")
    assert example.data == case.document.data and example.type == "invoice"
    assert example.fields == truth and example.line_items == case.document.line_items
