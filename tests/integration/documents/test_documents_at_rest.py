"""Documents at rest: what ingest stores is sealed under the tenant's data key (S3 read directly shows no PDF),
opens whole through the store, refuses to open when altered or moved under another tenant, and survives KEK
rotations without being rewritten; documents stored in clear before are read, and sealed in place by
`aios documents seal`."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from aios.db.scratch import scratch_database
from aios.keys.documents import SEALED_WITH
from aios.keys.keyring import FileKeyRing
from aios.objects.errors import DocumentCorrupted
from aios.objects.store import ENCRYPTION_METADATA, object_key
from aios.settings import ConnectionSettings
from aios.tenants.store import IssuedKey
from tests.integration.documents.conftest import Documents
from tests.integration.documents.test_upload import post_document
from tests.integration.ingest.conftest import IngestProcess
from tests.support.cli import aios
from tests.support.documents import invoice_pdf


def _raw(store: Documents, key: str) -> tuple[bytes, dict[str, str]]:
    """The object as S3 keeps it, past the store's sealing."""
    answer = store.s3.get_object(Bucket=store.bucket, Key=key)
    return answer["Body"].read(), answer["Metadata"]


def _assert_sealed(stored: bytes, metadata: dict[str, str], document: bytes, number: str) -> None:
    assert metadata[ENCRYPTION_METADATA] == SEALED_WITH
    assert number.encode() in document and b"Acme Supplies" in document  # readable in the PDF itself...
    for plaintext in (b"%PDF", b"ReportLab", number.encode(), b"Acme Supplies"):
        assert plaintext not in stored  # ...and nowhere in what is at rest
    windows = {document[i : i + 16] for i in range(0, len(document) - 16, 16)}
    assert not [window for window in windows if window in stored]  # nor any 16 bytes of it


def test_an_uploaded_pdf_is_sealed_at_rest_and_opens_whole_through_the_store(
    ingest: IngestProcess, tenant: IssuedKey, store: Documents
) -> None:
    number = f"INV-{uuid.uuid4().hex[:6]}"
    data = invoice_pdf(number=number, text_in_clear=True)
    answer = post_document(ingest.url, tenant.api_key, data)
    assert answer.status_code == 202, answer.text
    sha256 = hashlib.sha256(data).hexdigest()
    stored, metadata = _raw(store, object_key(tenant.tenant_id, sha256))
    _assert_sealed(stored, metadata, data, number)
    assert store.get(tenant.tenant_id, sha256) == data


def test_a_tampered_object_is_refused(store: Documents) -> None:
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    stored = store.put(tenant, invoice_pdf(number=f"INV-{uuid.uuid4().hex[:6]}"))
    sealed, metadata = _raw(store, stored.object_key)
    tampered = bytearray(sealed)
    tampered[len(sealed) // 2] ^= 0x01
    store.s3.put_object(Bucket=store.bucket, Key=stored.object_key, Body=bytes(tampered), Metadata=metadata)
    with pytest.raises(DocumentCorrupted, match=f"does not open under tenant {tenant}'s data key"):
        store.get(tenant, stored.sha256)


def test_an_object_whose_metadata_names_another_sealing_is_refused_not_retried(store: Documents) -> None:
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    stored = store.put(tenant, invoice_pdf(number=f"INV-{uuid.uuid4().hex[:6]}"))
    sealed, metadata = _raw(store, stored.object_key)
    metadata = {**metadata, ENCRYPTION_METADATA: "rot13"}
    store.s3.put_object(Bucket=store.bucket, Key=stored.object_key, Body=sealed, Metadata=metadata)
    with pytest.raises(DocumentCorrupted, match="is sealed with 'rot13'"):
        store.get(tenant, stored.sha256)


def test_a_document_moved_under_another_tenant_does_not_open_with_its_key(store: Documents) -> None:
    owner, other = f"t-{uuid.uuid4().hex[:8]}", f"t-{uuid.uuid4().hex[:8]}"
    stored = store.put(owner, invoice_pdf(number=f"INV-{uuid.uuid4().hex[:6]}"))
    store.put(other, invoice_pdf(number=f"INV-{uuid.uuid4().hex[:6]}"))  # the other tenant has its own data key
    moved = object_key(other, stored.sha256)
    store.s3.copy_object(Bucket=store.bucket, Key=moved, CopySource={"Bucket": store.bucket, "Key": stored.object_key})
    with pytest.raises(DocumentCorrupted, match="names a data key of another scope"):
        store.get(other, stored.sha256)


def test_a_document_stored_before_encryption_is_read_in_clear_and_sealed_when_stored_again(store: Documents) -> None:
    tenant, number = f"t-{uuid.uuid4().hex[:8]}", f"INV-{uuid.uuid4().hex[:6]}"
    data = invoice_pdf(number=number, text_in_clear=True)
    key = object_key(tenant, hashlib.sha256(data).hexdigest())
    store.s3.put_object(Bucket=store.bucket, Key=key, Body=data, ContentType="application/pdf")
    assert store.get(tenant, hashlib.sha256(data).hexdigest()) == data
    store.put(tenant, data)
    _assert_sealed(*_raw(store, key), data, number)


@pytest.fixture
def private_keys(
    connection: ConnectionSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Documents]:
    """Documents in a database of their own (so a rotation counts only their data keys) under a keyring of their own."""
    monkeypatch.setenv("AIOS_KEYS_DIR", str(tmp_path / "keys"))
    with scratch_database(connection.postgres_dsn.get_secret_value()) as dsn:
        monkeypatch.setenv("AIOS_POSTGRES_DSN", dsn)
        yield Documents(dsn)


def test_documents_open_after_kek_rotations_without_being_rewritten(private_keys: Documents, tmp_path: Path) -> None:
    store, tenant = private_keys, f"t-{uuid.uuid4().hex[:8]}"
    data = invoice_pdf(number=f"INV-{uuid.uuid4().hex[:6]}")
    stored = store.put(tenant, data)
    sealed_before, _ = _raw(store, stored.object_key)
    keyring = FileKeyRing(tmp_path / "keys" / "keyring.json")
    first = keyring.current_id()
    for _ in range(2):  # the second rotation drops the first KEK: nothing may still need it
        rotated = aios("secrets", "rotate-kek")
        assert rotated.returncode == 0, rotated.stderr
        assert "re-wrapped 1 data key(s)" in rotated.stdout
    assert first not in keyring.ids()
    assert _raw(store, stored.object_key)[0] == sealed_before
    assert store.get(tenant, stored.sha256) == data


def test_documents_stored_in_clear_before_are_sealed_in_place(private_keys: Documents) -> None:
    store, tenant = private_keys, f"t-{uuid.uuid4().hex[:8]}"
    numbers = [f"INV-OLD-{n}" for n in range(2)]
    legacy = {number: invoice_pdf(number=number, text_in_clear=True) for number in numbers}
    for data in legacy.values():
        key = object_key(tenant, hashlib.sha256(data).hexdigest())
        store.s3.put_object(Bucket=store.bucket, Key=key, Body=data, ContentType="application/pdf")
    altered = object_key(tenant, "0" * 64)
    store.s3.put_object(Bucket=store.bucket, Key=altered, Body=b"%PDF-1.4 altered")
    already = store.put(tenant, invoice_pdf(number="INV-NEW"))
    already_sealed = _raw(store, already.object_key)[0]

    sealed = aios("documents", "seal", "--tenant", tenant)
    assert sealed.returncode == 0, sealed.stderr
    assert "sealed 2 document(s)" in sealed.stdout
    assert f"left {altered} as it is" in sealed.stderr
    for number, data in legacy.items():
        key = object_key(tenant, hashlib.sha256(data).hexdigest())
        _assert_sealed(*_raw(store, key), data, number)
        assert store.s3.head_object(Bucket=store.bucket, Key=key)["ContentType"] == "application/pdf"
        assert store.get(tenant, hashlib.sha256(data).hexdigest()) == data
    assert _raw(store, already.object_key)[0] == already_sealed
    assert "sealed 0 document(s)" in aios("documents", "seal", "--tenant", tenant).stdout
