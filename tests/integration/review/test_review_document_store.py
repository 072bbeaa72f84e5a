"""A document's verdict in the review store: the reviewed fields kept as a labelled example in the verdict's
transaction, the signed verdict carrying what changed, nothing kept for a rejection."""

from __future__ import annotations

import json

import asyncpg

from aios.documents.feedback import ReviewedDocument, reviewed_documents
from aios.kafka.topics import REVIEW_COMPLETED
from aios.keys.signing import RecordVerifier
from aios.review.accounts import Reviewer
from aios.review.store import ReviewStore, Verdict
from tests.integration.review.test_review_store import VERDICT_TRACE, request_for, run

LINE: dict[str, str | None] = {"description": "Freight", "quantity": "1", "unit_price": "40.00", "amount": "40.00"}


def reviewed(review_id: str, reviewer: Reviewer, corrected: list[str]) -> ReviewedDocument:
    return ReviewedDocument(
        review_id=review_id,
        tenant_id=reviewer.tenant_id,
        event_id=f"event-{review_id}",
        sha256="b" * 64,
        media_type="application/pdf",
        document_type="invoice",
        fields={"invoice_number": "INV-1", "total": "140.00", "iban": None},
        line_items=[LINE],
        corrected=corrected,
        extractor_version="document-extractor:1",
        reviewer=reviewer.username,
    )


def test_a_documents_verdict_keeps_the_example_and_carries_the_changes(migrated_database: str) -> None:
    async def scenario(pool: asyncpg.Pool, reviewers: dict[str, Reviewer]) -> None:
        store = ReviewStore(pool)
        alice, bob = reviewers["alice"], reviewers["bob"]
        corrected, confirmed, rejected = (request_for(alice.tenant_id) for _ in range(3))
        other = request_for(bob.tenant_id)
        await store.store_requests([corrected, confirmed, rejected, other])
        for request, reviewer, verdict, changes in (
            (corrected, alice, Verdict("APPROVE"), ["total", "line_items"]),
            (confirmed, alice, Verdict("APPROVE"), []),
            (rejected, alice, Verdict("REJECT", reason="not ours"), ["total"]),
            (other, bob, Verdict("APPROVE"), ["total"]),
        ):
            await store.claim(reviewer, request.review_id, 600)
            document = reviewed(request.review_id, reviewer, changes)
            await store.complete(reviewer, request.review_id, verdict, VERDICT_TRACE, document)

        records = {
            row["review_id"]: json.loads(row["record"])
            for row in await pool.fetch("SELECT review_id, record FROM review_outbox")
        }
        sent = records[corrected.review_id]
        assert sent["corrected_fields"] == {"total": "140.00"} and sent["line_items"] == [LINE]
        RecordVerifier("review", REVIEW_COMPLETED.name).verify(sent)
        assert records[confirmed.review_id]["corrected_fields"] is None
        assert records[confirmed.review_id]["line_items"] is None
        assert records[rejected.review_id]["corrected_fields"] is None  # a rejection corrects nothing

        mine = await reviewed_documents(pool, alice.tenant_id)
        assert [e.review_id for e in mine] == [corrected.review_id, confirmed.review_id]
        assert mine[0].fields == {"invoice_number": "INV-1", "total": "140.00", "iban": None}
        assert mine[0].line_items == [LINE] and mine[0].corrected == ["total", "line_items"]
        only_changed = await reviewed_documents(pool, alice.tenant_id, corrected_only=True)
        assert [e.review_id for e in only_changed] == [corrected.review_id]
        assert {e.review_id for e in await reviewed_documents(pool)} == {
            corrected.review_id, confirmed.review_id, other.review_id
        }  # fmt: skip

    run(migrated_database, scenario)
