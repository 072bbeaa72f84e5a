"""`POST /v1/documents` and its webhook twin against the real ingest, SeaweedFS and Kafka: what is accepted is stored
and referenced on the topic, what is refused is refused at the edge with its reason, and nothing else is written."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import pytest

from aios.client import AiosClient, SubmitRejected
from aios.kafka import topics as catalogue
from aios.kafka.serde import Codecs
from aios.tenants.signatures import SIGNATURE_HEADER, signature_header
from aios.tenants.store import IssuedKey, IssuedWebhookSecret
from tests.integration.documents.conftest import Documents
from tests.integration.ingest.conftest import IngestProcess
from tests.support.cli import aios
from tests.support.documents import (
    blank_png,
    encrypted_pdf,
    invoice_pdf,
    pages_pdf,
    scan_of,
    zero_page_pdf,
)
from tests.support.kafka_io import decoded_values, read_topic

RECEIVED = catalogue.DOCUMENTS_RECEIVED.name


def post_document(
    url: str,
    api_key: str | None,
    data: bytes,
    *,
    media_type: str = "application/pdf",
    fields: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    sent = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    return httpx.post(
        f"{url}/v1/documents",
        files={"file": ("doc", data, media_type)},
        data={"type": "auto", **(fields or {})},
        headers={**sent, **(headers or {})},
        timeout=30,
    )


def references(
    codecs: Codecs, topics: dict[str, str], ingest_bootstrap: str, event_ids: set[str]
) -> list[dict[str, Any]]:
    """The records on the documents topic of these events (read until each has one)."""
    topic = topics[RECEIVED]

    def has_all(messages: list[Any]) -> bool:
        return event_ids <= {v["event_id"] for v in decoded_values(codecs, topic, messages)}

    found = decoded_values(codecs, topic, read_topic(ingest_bootstrap, topic, has_all, timeout_s=30))
    return [value for value in found if value["event_id"] in event_ids]


def test_an_accepted_document_is_stored_and_its_reference_acked(
    ingest: IngestProcess,
    tenant: IssuedKey,
    store: Documents,
    codecs: Codecs,
    document_topics: dict[str, str],
    kafka_bootstrap: str,
) -> None:
    data = invoice_pdf(number=f"INV-{uuid.uuid4().hex[:6]}")
    answer = post_document(
        ingest.url,
        tenant.api_key,
        data,
        fields={"type": "invoice", "attributes": json.dumps({"customer": "C-7"}), "source_ref": "scan-1"},
    )
    assert answer.status_code == 202, answer.text
    event_id = answer.json()["event_id"]
    assert answer.json()["status_url"].endswith(f"/v1/events/{event_id}")
    [record] = references(codecs, document_topics, kafka_bootstrap, {event_id})
    reference = record["document"]
    assert reference["tenant_id"] == tenant.tenant_id
    assert (reference["media_type"], reference["pages"], reference["size_bytes"]) == ("application/pdf", 1, len(data))
    assert reference["object_key"] == f"tenants/{tenant.tenant_id}/documents/{reference['sha256']}"
    assert (record["declared_type"], record["attributes"], record["source_ref"]) == (
        "invoice",
        {"customer": "C-7"},
        "scan-1",
    )
    assert store.get(tenant.tenant_id, reference["sha256"]) == data  # stored before the 202
    status = httpx.get(f"{ingest.url}/v1/events/{event_id}", headers={"Authorization": f"Bearer {tenant.api_key}"})
    assert status.status_code == 200
    assert status.json()["type"] == "document.invoice"


def test_an_idempotency_key_gives_the_same_event_and_refuses_another_file(
    ingest: IngestProcess, tenant: IssuedKey, codecs: Codecs, document_topics: dict[str, str], kafka_bootstrap: str
) -> None:
    key = {"Idempotency-Key": f"upload-{uuid.uuid4()}"}
    data = invoice_pdf(number=f"INV-{uuid.uuid4().hex[:6]}")
    first = post_document(ingest.url, tenant.api_key, data, headers=key)
    again = post_document(ingest.url, tenant.api_key, data, headers=key)
    assert first.status_code == again.status_code == 202
    assert first.json()["event_id"] == again.json()["event_id"]
    other = post_document(ingest.url, tenant.api_key, invoice_pdf(number="INV-OTHER"), headers=key)
    assert other.status_code == 422
    assert "different request" in other.json()["detail"]
    assert len(references(codecs, document_topics, kafka_bootstrap, {first.json()["event_id"]})) == 1


def test_no_api_key_is_401_and_another_tenant_cannot_see_the_event(
    ingest: IngestProcess, tenant: IssuedKey, make_tenant: Callable[[], IssuedKey]
) -> None:
    assert post_document(ingest.url, None, invoice_pdf()).status_code == 401
    assert post_document(ingest.url, "aios_not_a_key", invoice_pdf()).status_code == 401
    accepted = post_document(ingest.url, tenant.api_key, invoice_pdf())
    other = make_tenant()
    status = httpx.get(
        f"{ingest.url}/v1/events/{accepted.json()['event_id']}", headers={"Authorization": f"Bearer {other.api_key}"}
    )
    assert status.status_code == 404


@pytest.mark.parametrize(
    ("data", "media_type", "status", "reason"),
    [
        (b"<html>an invoice</html>", "text/html", 415, "none of application/pdf"),
        (scan_of(invoice_pdf()), "application/pdf", 415, "declared application/pdf but its content is image/png"),
        (encrypted_pdf(), "application/pdf", 422, "encrypted"),
        (invoice_pdf()[:400], "application/pdf", 422, "corrupt"),
        (zero_page_pdf(), "application/pdf", 422, "no pages"),
        (pages_pdf(6), "application/pdf", 413, "6 pages; at most 5"),
        (blank_png(12_000, 12_000), "image/png", 422, "decompression bomb"),
        (b"%PDF-1.4\n" + b"0" * (2 * 1024 * 1024), "application/pdf", 413, "larger than 2097152 bytes"),
    ],
    ids=[
        "not-a-document",
        "not-its-content-type",
        "encrypted",
        "corrupt",
        "no-pages",
        "too-many-pages",
        "bomb",
        "too-large",
    ],
)
def test_each_bad_file_kind_is_refused_at_the_edge_with_its_reason(
    ingest: IngestProcess,
    tenant: IssuedKey,
    codecs: Codecs,
    document_topics: dict[str, str],
    kafka_bootstrap: str,
    data: bytes,
    media_type: str,
    status: int,
    reason: str,
) -> None:
    source_ref = f"bad-{uuid.uuid4().hex[:8]}"
    answer = post_document(ingest.url, tenant.api_key, data, media_type=media_type, fields={"source_ref": source_ref})
    assert answer.status_code == status, answer.text
    assert reason in answer.json()["detail"]
    topic = document_topics[RECEIVED]
    written = decoded_values(codecs, topic, read_topic(kafka_bootstrap, topic, lambda _: False, timeout_s=2))
    assert source_ref not in {value["source_ref"] for value in written}


@pytest.mark.parametrize(
    ("fields", "loc"),
    [
        ({"type": "receipt"}, "type"),
        ({"attributes": "[1, 2]"}, "attributes"),
        ({"attributes": "{not json"}, "attributes"),
        ({"attributes": json.dumps({"customer": 7})}, "attributes"),
    ],
)
def test_bad_form_fields_are_400_naming_the_field(
    ingest: IngestProcess, tenant: IssuedKey, fields: dict[str, str], loc: str
) -> None:
    answer = post_document(ingest.url, tenant.api_key, invoice_pdf(), fields=fields)
    assert answer.status_code == 400, answer.text
    assert any(problem["loc"][:2] == ["body", loc] for problem in answer.json()["detail"])


def test_a_json_body_is_415(ingest: IngestProcess, tenant: IssuedKey) -> None:
    answer = httpx.post(
        f"{ingest.url}/v1/documents", json={"file": "x"}, headers={"Authorization": f"Bearer {tenant.api_key}"}
    )
    assert answer.status_code == 415


def test_a_signed_webhook_upload_is_accepted_and_a_forged_one_is_not(
    ingest: IngestProcess,
    webhook: IssuedWebhookSecret,
    codecs: Codecs,
    document_topics: dict[str, str],
    kafka_bootstrap: str,
) -> None:
    request = httpx.Request(
        "POST",
        f"{ingest.url}/v1/webhooks/{webhook.source}/documents",
        files={"file": ("scan.png", scan_of(invoice_pdf()), "image/png")},
        data={"type": "invoice"},
    )
    body = request.read()
    now = int(time.time())
    signed = {
        "Content-Type": request.headers["Content-Type"],
        SIGNATURE_HEADER: signature_header(webhook.secret, now, body),
    }
    answer = httpx.post(request.url, content=body, headers=signed)
    assert answer.status_code == 202, answer.text
    [record] = references(codecs, document_topics, kafka_bootstrap, {answer.json()["event_id"]})
    assert record["source"] == f"webhook:{webhook.source}"
    assert record["document"]["tenant_id"] == webhook.tenant_id
    assert record["document"]["media_type"] == "image/png"
    forged = {**signed, SIGNATURE_HEADER: signature_header("whsec_wrong", now, body)}
    assert httpx.post(request.url, content=body, headers=forged).status_code == 401
    tampered = body.replace(b"invoice", b"claim\x20\x20")
    assert httpx.post(request.url, content=tampered, headers=signed).status_code == 401


def test_the_sdk_submits_a_path_or_bytes_and_says_why_a_file_is_refused(
    ingest: IngestProcess, tenant: IssuedKey, tmp_path: Any
) -> None:
    path = tmp_path / "invoice.pdf"
    path.write_bytes(invoice_pdf(number=f"INV-{uuid.uuid4().hex[:6]}"))
    with AiosClient(ingest.url, tenant.api_key) as client:
        by_path = client.submit_document(path, type="invoice")
        by_bytes = client.submit_document(scan_of(invoice_pdf()), type="auto", attributes={"batch": "7"})
        assert by_path != by_bytes
        assert client.status(by_path)["type"] == "document.invoice"
        with pytest.raises(SubmitRejected, match="encrypted"):
            client.submit_document(encrypted_pdf())


def test_the_cli_uploads_files_with_a_summary(ingest: IngestProcess, tenant: IssuedKey, tmp_path: Any) -> None:
    good = tmp_path / "a.pdf"
    good.write_bytes(invoice_pdf(number=f"INV-{uuid.uuid4().hex[:6]}"))
    scan = tmp_path / "b.png"
    scan.write_bytes(scan_of(invoice_pdf()))
    locked = tmp_path / "c.pdf"
    locked.write_bytes(encrypted_pdf())
    result = aios(
        "submit", "--document", str(good), str(scan), str(locked), "--type", "invoice",
        "--url", ingest.url, "--api-key", tenant.api_key,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{good}\t") and lines[1].startswith(f"{scan}\t")
    assert "accepted: 2" in lines
    assert "rejected: 1" in lines
    assert any("encrypted" in line and str(locked) in line for line in lines)
    assert "uploading" in result.stderr
