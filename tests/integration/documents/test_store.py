"""The object store: SeaweedFS in the stack, documents under their tenant, never another tenant's, kept as long as
the tenant's retention says."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from aios.objects.errors import DocumentCorrupted, DocumentNotFound
from aios.objects.settings import ObjectStoreSettings
from aios.objects.store import object_key
from aios.stack.stack import LocalStack
from tests.integration.documents.conftest import Documents
from tests.support.cli import aios
from tests.support.documents import invoice_pdf


def test_stack_status_reports_the_s3_endpoint_and_its_health(local_stack: LocalStack) -> None:
    report = json.loads(aios("stack", "status", "--json").stdout)
    assert report["s3_url"] == local_stack.seaweedfs.url
    assert report["components"]["seaweedfs"] is True


def test_a_document_is_stored_under_its_tenant_and_read_back_whole(store: Documents) -> None:
    tenant = str(uuid.uuid4())
    data = invoice_pdf(number=f"INV-{uuid.uuid4().hex[:6]}")
    stored = store.put(tenant, data, "application/pdf")
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.object_key == f"tenants/{tenant}/documents/{stored.sha256}"
    assert store.get(tenant, stored.sha256) == data
    head = store.s3.head_object(Bucket=store.bucket, Key=stored.object_key)
    assert head["ContentType"] == "application/pdf"
    assert store.put(tenant, data, "application/pdf") == stored  # a retry rewrites the same object


def test_no_tenant_reads_another_tenants_document(store: Documents) -> None:
    owner, other = str(uuid.uuid4()), str(uuid.uuid4())
    stored = store.put(owner, invoice_pdf(number=f"INV-{uuid.uuid4().hex[:6]}"), "application/pdf")
    with pytest.raises(DocumentNotFound):
        store.get(other, stored.sha256)
    with pytest.raises(ValueError, match="cannot name an object prefix"):
        object_key(f"{owner}/../{other}", stored.sha256)


def test_bytes_changed_in_the_store_are_detected(store: Documents) -> None:
    tenant = str(uuid.uuid4())
    stored = store.put(tenant, invoice_pdf(), "application/pdf")
    store.s3.put_object(Bucket=store.bucket, Key=stored.object_key, Body=b"%PDF-1.4 tampered")
    with pytest.raises(DocumentCorrupted):
        store.get(tenant, stored.sha256)


def test_retention_is_per_tenant(store: Documents) -> None:
    short, long = str(uuid.uuid4()), str(uuid.uuid4())
    settings = ObjectStoreSettings(default_retention_days=30, tenant_retention_days={short: 1})
    documents = Documents(store.dsn, settings)
    kept = documents.put(long, invoice_pdf(number="INV-KEEP"))
    gone = documents.put(short, invoice_pdf(number="INV-GONE"))
    in_two_days = datetime.now(UTC) + timedelta(days=2)
    assert documents.call(lambda s: asyncio.to_thread(s.purge_expired, long, in_two_days)) == 0
    assert documents.call(lambda s: asyncio.to_thread(s.purge_expired, short, in_two_days)) == 1
    assert documents.get(long, kept.sha256)
    with pytest.raises(DocumentNotFound):
        documents.get(short, gone.sha256)
