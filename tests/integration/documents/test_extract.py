"""The extract service end to end through Kafka: uploads through ingest, documents read by `services.extract`, what
was read on its topic, the document on as an ordinary event, duplicates per tenant, bad files to review with their
reason, `GET /v1/events/{id}` with stages and fields, and `kill -9` mid-batch losing nothing, counting nothing twice."""

from __future__ import annotations

import json
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from aios.kafka import topics as catalogue
from aios.kafka.serde import Codecs
from aios.settings import ConnectionSettings
from aios.tenants.store import IssuedKey
from tests.integration.documents.conftest import ExtractFactory
from tests.integration.ingest.conftest import IngestProcess, free_port
from tests.support.database import call_database
from tests.support.documents import blank_png, claim_pdf, invoice_pdf, scan_of
from tests.support.kafka_io import decoded_values, read_topic
from tests.support.services import ServiceProcess, stack_env

EXTRACTED = catalogue.DOCUMENTS_EXTRACTED.name
EVENTS = catalogue.EVENTS_RECEIVED.name


def upload(
    ingest: IngestProcess, tenant: IssuedKey, data: bytes, media_type: str = "application/pdf", **fields: str
) -> str:
    answer = httpx.post(
        f"{ingest.url}/v1/documents",
        files={"file": ("doc", data, media_type)},
        data={"type": "auto", **fields},
        headers={"Authorization": f"Bearer {tenant.api_key}"},
        timeout=30,
    )
    assert answer.status_code == 202, answer.text
    return str(answer.json()["event_id"])


def outputs(
    codecs: Codecs,
    topics: dict[str, str],
    bootstrap: str,
    catalogue_topic: str,
    event_ids: set[str],
    timeout_s: float = 120,
) -> dict[str, list[dict[str, Any]]]:
    """Every record of these events on the private copy of `catalogue_topic`, read until each has one."""
    topic = topics[catalogue_topic]

    def by_event(messages: list[Any]) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for value in decoded_values(codecs, topic, messages):
            if value["event_id"] in event_ids:
                found[value["event_id"]].append(value)
        return found

    messages = read_topic(bootstrap, topic, lambda got: event_ids <= set(by_event(got)), timeout_s=timeout_s)
    found = by_event(messages)
    assert event_ids <= set(found), f"never extracted: {event_ids - set(found)}"
    return found


@pytest.fixture
def extract(start_extract: ExtractFactory) -> ServiceProcess:
    return start_extract()


@pytest.fixture
def audit(documents_connection: ConnectionSettings, document_topics: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """The audit service on the private topics, so `GET /v1/events/{id}` has stages to show."""
    port = free_port()
    env = {
        **stack_env(documents_connection, documents_connection.postgres_dsn.get_secret_value()),
        "AIOS_AUDIT_GROUP_ID": f"audit-{uuid.uuid4().hex[:8]}",
        "AIOS_AUDIT_PORT": str(port),
        "AIOS_AUDIT_TOPICS": json.dumps(list(document_topics.values())),
        "AIOS_AUDIT_CARRIES": json.dumps({copy: name for name, copy in document_topics.items()}),
    }
    process = ServiceProcess("services.audit", env, tmp_path / "audit.log")
    yield f"http://127.0.0.1:{port}"
    process.stop()


def test_an_invoice_is_read_and_goes_on_as_an_ordinary_event(
    ingest: IngestProcess,
    tenant: IssuedKey,
    extract: ServiceProcess,
    audit: str,
    codecs: Codecs,
    document_topics: dict[str, str],
    kafka_bootstrap: str,
) -> None:
    number = f"INV-{uuid.uuid4().hex[:6].upper()}"
    event_id = upload(ingest, tenant, invoice_pdf(number=number), attributes=json.dumps({"customer": "C-9"}))
    [extracted] = outputs(codecs, document_topics, kafka_bootstrap, EXTRACTED, {event_id})[event_id][:1]
    fields = {name: field["normalized"] for name, field in extracted["fields"].items()}
    assert extracted["document_type"] == "invoice"
    assert fields["invoice_number"] == number
    assert (fields["invoice_date"], fields["due_date"], fields["total"]) == ("2026-11-02", "2026-12-02", "119.00")
    assert (fields["currency"], fields["iban"]) == ("EUR", "DE89370400440532013000")
    assert fields["po_number"] is None  # the document has none
    total = extracted["fields"]["total"]
    assert total["page"] == 1 and len(total["bbox"]) == 4 and 0 < total["confidence"] <= 1
    assert {check["name"]: check["passed"] for check in extracted["checks"]}["subtotal_plus_tax_is_total"] is True
    assert {check["name"]: check["passed"] for check in extracted["checks"]}["duplicate"] is True
    assert extracted["ocr_engine"] is None and extracted["extractor_version"] and extracted["review_reason"] is None
    assert extracted["timings_ms"]["total"] > 0
    [event] = outputs(codecs, document_topics, kafka_bootstrap, EVENTS, {event_id})[event_id][:1]
    assert event["type"] == "document.invoice"
    assert number in event["text"]
    attributes = event["attributes"]
    assert attributes["customer"] == "C-9"
    assert attributes["field_total"] == "119.00"
    assert attributes["document_sha256"] == extracted["document"]["sha256"]
    assert "document_review_reason" not in attributes

    deadline = time.monotonic() + 60
    while True:
        shown = httpx.get(
            f"{ingest.url}/v1/events/{event_id}", headers={"Authorization": f"Bearer {tenant.api_key}"}
        ).json()
        if {"document_received", "extracted", "received"} <= set(shown["stages"]) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert shown["stages"][:3] == ["document_received", "extracted", "received"]
    assert shown["document"]["document_type"] == "invoice"
    assert shown["document"]["fields"]["invoice_number"]["normalized"] == number
    assert shown["document"]["document"]["sha256"] == extracted["document"]["sha256"]


def test_duplicates_per_tenant_name_the_earlier_event(
    ingest: IngestProcess,
    tenant: IssuedKey,
    make_tenant: Callable[[], IssuedKey],
    extract: ServiceProcess,
    codecs: Codecs,
    document_topics: dict[str, str],
    kafka_bootstrap: str,
) -> None:
    number = f"INV-{uuid.uuid4().hex[:6].upper()}"
    claim_number = f"CLM-{uuid.uuid4().hex[:6].upper()}"
    original = invoice_pdf(number=number)
    first = upload(ingest, tenant, original)
    claim = upload(ingest, tenant, claim_pdf(number=claim_number))
    outputs(codecs, document_topics, kafka_bootstrap, EXTRACTED, {first, claim})
    same_bytes = upload(ingest, tenant, original)
    scanned = upload(ingest, tenant, scan_of(original), media_type="image/png")
    same_number = upload(ingest, tenant, invoice_pdf(number=number, total="120.00"))
    same_claim = upload(ingest, tenant, claim_pdf(number=claim_number, claimed="2,600.00"))  # other content
    other_tenant = make_tenant()
    elsewhere = upload(ingest, other_tenant, original)
    found = outputs(
        codecs, document_topics, kafka_bootstrap, EXTRACTED, {same_bytes, scanned, same_number, same_claim, elsewhere}
    )
    verdicts = {
        event_id: (found[event_id][0]["duplicate_of"], found[event_id][0]["review_reason"]) for event_id in found
    }
    assert verdicts[same_bytes][0] == first and "same bytes" in verdicts[same_bytes][1]
    assert verdicts[scanned][0] == first and "same content" in verdicts[scanned][1]
    assert verdicts[same_number][0] == first and "same invoice" in verdicts[same_number][1]
    assert verdicts[same_claim][0] == claim and "same claim" in verdicts[same_claim][1]
    assert verdicts[elsewhere] == (None, None)  # another tenant's copy is not this tenant's duplicate
    assert found[scanned][0]["ocr_engine"]
    [event] = outputs(codecs, document_topics, kafka_bootstrap, EVENTS, {scanned})[scanned][:1]
    assert event["attributes"]["document_duplicate_of"] == first


def test_a_page_where_ocr_finds_nothing_goes_to_review_with_the_reason(
    ingest: IngestProcess,
    tenant: IssuedKey,
    extract: ServiceProcess,
    codecs: Codecs,
    document_topics: dict[str, str],
    kafka_bootstrap: str,
) -> None:
    event_id = upload(ingest, tenant, blank_png(), media_type="image/png")
    [extracted] = outputs(codecs, document_topics, kafka_bootstrap, EXTRACTED, {event_id})[event_id][:1]
    assert "found no text" in extracted["review_reason"]
    [event] = outputs(codecs, document_topics, kafka_bootstrap, EVENTS, {event_id})[event_id][:1]
    assert "found no text" in event["attributes"]["document_review_reason"]
    assert event["text"]  # the event still goes on, to a person
    assert extract.running()


def test_a_document_over_its_time_budget_goes_to_review_and_the_service_goes_on(
    ingest: IngestProcess,
    tenant: IssuedKey,
    start_extract: ExtractFactory,
    codecs: Codecs,
    document_topics: dict[str, str],
    kafka_bootstrap: str,
) -> None:
    extract = start_extract(time_budget_s="0.2")
    slow = upload(ingest, tenant, scan_of(invoice_pdf(number=f"INV-{uuid.uuid4().hex[:6]}")), media_type="image/png")
    [extracted] = outputs(codecs, document_topics, kafka_bootstrap, EXTRACTED, {slow})[slow][:1]
    assert "longer than the 0.2 s budget" in extracted["review_reason"]
    assert extract.running()


def test_kill_9_mid_batch_loses_nothing_and_counts_nothing_twice(
    ingest: IngestProcess,
    tenant: IssuedKey,
    module_database: str,
    start_extract: ExtractFactory,
    codecs: Codecs,
    document_topics: dict[str, str],
    kafka_bootstrap: str,
) -> None:
    documents = [invoice_pdf(number=f"INV-K{n}-{uuid.uuid4().hex[:4]}") for n in range(10)]
    event_ids = [
        upload(ingest, tenant, scan_of(data), media_type="image/png") if n % 2 else upload(ingest, tenant, data)
        for n, data in enumerate(documents)
    ]
    first = start_extract(max_batch="4")
    outputs(codecs, document_topics, kafka_bootstrap, EXTRACTED, set(event_ids[:1]), timeout_s=120)
    first.kill()  # SIGKILL: no drain, no commit
    start_extract(max_batch="4")
    found = outputs(codecs, document_topics, kafka_bootstrap, EXTRACTED, set(event_ids), timeout_s=240)
    assert set(found) == set(event_ids)  # nothing lost
    for event_id, records in found.items():
        # a batch read again after the kill may be written again; it says the same thing each time
        assert all(_what(record) == _what(records[0]) for record in records), event_id
        assert records[0]["duplicate_of"] is None  # never a duplicate of itself or of its own replay
    rows = call_database(
        module_database,
        lambda pool: pool.fetch("SELECT event_id FROM documents WHERE tenant_id = $1", tenant.tenant_id),
    )
    assert sorted(row["event_id"] for row in rows) == sorted(event_ids)  # one row per document


def _what(record: dict[str, Any]) -> tuple[Any, ...]:
    return (record["fields"], record["checks"], record["duplicate_of"], record["review_reason"], record["document"])
