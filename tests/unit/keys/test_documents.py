"""A document's associated data names its tenant and object key, so sealed bytes open nowhere else."""

from __future__ import annotations

from aios.keys.documents import document_aad
from aios.objects.store import object_key

SHA = "0" * 64


def test_the_associated_data_differs_per_tenant_and_per_object() -> None:
    mine = document_aad("acme", object_key("acme", SHA))
    assert b"acme" in mine and object_key("acme", SHA).encode() in mine
    assert mine != document_aad("globex", object_key("globex", SHA))
    assert mine != document_aad("acme", object_key("acme", "1" * 64))
    assert mine != document_aad("globex", object_key("acme", SHA))
