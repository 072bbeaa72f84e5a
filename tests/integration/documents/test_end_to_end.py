"""An invoice from upload to payout through the whole pipeline, as real processes against the real stack.

ingest → extract → classify → retrieve-generate → decide (the shipped payables policy over reference data in
PostgreSQL) → act (the ERP, the payout simulator, an SMTP server): a touchless invoice is paid exactly once,
the same invoice uploaded again is refused as a duplicate and pays nothing, and an invoice whose IBAN is not
the one its vendor has on file goes to a person with that reason. The invoices come from the seeded synthetic
generator (a tuning layout it reads in full, not a held-out one); the reference data is made from their truth.
"""

from __future__ import annotations

import signal
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest

from aios.bench.document_pipeline import import_refdata, payables_refdata
from aios.connectors.config import ConnectorConfigs
from aios.connectors.payment import business_reference
from aios.documents.synthetic import Generated, generate
from aios.inference.training import TrainResult
from aios.paths import project_root
from aios.settings import ConnectionSettings
from tests.support.database import call_database
from tests.support.http_target import HttpTarget
from tests.support.payouts_sim import PayoutSim
from tests.support.pipeline import EXTRACT, Pipeline, Tenant, private_pipeline, wait_for
from tests.support.smtp_sink import SmtpSink

LAYOUT = 22
"""A tuning layout whose invoices the extractor reads in full, every payment field at 0.9 or more."""

PAID, REDIRECTED = generate(0, LAYOUT), generate(1, LAYOUT)
"""Two invoices of two vendors: the first matches its vendor's IBAN on file, the second does not."""

IBAN_ON_FILE = "DE89370400440532013000"
"""What the second vendor's master data says it is paid to (the invoice asks for another account)."""

DECIDED_S = 180
"""Upload to decision on a shared, loaded machine: extraction, classification and retrieval run first."""

FAST_RETRIES = {"base_delay_s": 0.2, "max_delay_s": 0.5, "jitter": 0.1}


@dataclass(frozen=True)
class Payables:
    pipeline: Pipeline
    tenant: Tenant
    payouts: PayoutSim
    erp: HttpTarget
    smtp: SmtpSink


def import_book(dsn: str, tenant_id: str) -> None:
    """The two invoices' vendors and purchase orders, the second vendor with another IBAN on file."""
    files = payables_refdata([PAID, REDIRECTED], {REDIRECTED.fields["vendor_name"] or "": IBAN_ON_FILE})
    call_database(dsn, lambda pool: import_refdata(pool, tenant_id, files, "e2e"))


def connect(dsn: str, tenant_id: str, payouts: PayoutSim, erp: HttpTarget, smtp: SmtpSink) -> None:
    """The tenant's ERP, payout system and mail server are the test's."""
    configs: dict[str, dict[str, Any]] = {
        "erp": {
            "url": f"{erp.url}/erp",
            "operations": {
                "post_invoice": {"path": "/postings"},
                "reverse_posting": {"path": "/postings/{compensates_ref}/reverse"},
            },
            "retry": FAST_RETRIES,
        },
        "payment": {"url": payouts.url, "api_key": payouts.api_key, "retry": FAST_RETRIES},
        "email": {"host": "127.0.0.1", "port": smtp.port, "sender": "ap@aios.test"},
    }

    async def work(pool: asyncpg.Pool) -> None:
        for connector, config in configs.items():
            await ConnectorConfigs(pool).set(tenant_id, connector, config)

    call_database(dsn, work)


@pytest.fixture(scope="module")
def payables(
    connection: ConnectionSettings, tiny_versions: list[TrainResult], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Payables]:
    """The whole pipeline with extract, one tenant on `policies/payables.yaml` with the invoices' reference data."""
    root = tmp_path_factory.mktemp("end-to-end")
    payouts = PayoutSim(tmp_path_factory.mktemp("payouts-sim")).start()
    erp, smtp = HttpTarget().start(), SmtpSink().start()
    try:
        with private_pipeline(connection, root, tiny_versions[0], partitions=1, webhook_secret="e2e-secret") as (
            pipeline,
            target,
        ):
            policy = (project_root() / "policies" / "payables.yaml").read_text()
            tenant = pipeline.add_tenant(
                f"payables-{uuid.uuid4().hex[:8]}", policy.replace("tenant: payables", "tenant: {tenant}"), target
            )
            import_book(pipeline.dsn, tenant.tenant_id)
            connect(pipeline.dsn, tenant.tenant_id, payouts, erp, smtp)
            pipeline.start()
            pipeline.start(EXTRACT)
            yield Payables(pipeline, tenant, payouts, erp, smtp)
    finally:
        smtp.stop()
        erp.stop()
        assert payouts.stop() in (0, -signal.SIGTERM)


def upload(payables: Payables, invoice: Generated, name: str) -> str:
    """POST /v1/documents; the id of the event the document becomes."""
    response = httpx.post(
        f"{payables.pipeline.url('ingest')}/v1/documents",
        headers={"Authorization": f"Bearer {payables.tenant.api_key}"},
        files={"file": (name, invoice.data, invoice.media_type)},
        data={"type": "invoice"},
        timeout=60,
    )
    assert response.status_code == 202, response.text
    return str(response.json()["event_id"])


def first(payables: Payables, topic: str, event_id: str) -> dict[str, Any]:
    """The first record of `topic` about `event_id`, waited for."""
    pipeline = payables.pipeline

    def about() -> list[dict[str, Any]]:
        return [r for r in pipeline.tail.values(topic) if r["event_id"] == event_id]

    wait_for(lambda: bool(about()), DECIDED_S, f"{topic} of {event_id}", pipeline.logs)
    return about()[0]


def executed(payables: Payables, event_id: str, count: int) -> list[tuple[str, str]]:
    """(action type, status) of the event's actions once `count` are reported."""
    pipeline = payables.pipeline

    def found() -> list[tuple[str, str]]:
        return [(r["action_type"], r["status"]) for r in pipeline.tail.values("executed") if r["event_id"] == event_id]

    wait_for(lambda: len(found()) >= count, 90, f"{count} actions of {event_id}", pipeline.logs)
    return found()


def reference(invoice: Generated) -> str:
    return business_reference({k: v or "" for k, v in invoice.fields.items()})


def test_a_touchless_invoice_is_posted_paid_once_and_advised_and_its_duplicate_pays_nothing(
    payables: Payables,
) -> None:
    event_id = upload(payables, PAID, "invoice.pdf")
    extracted = first(payables, "documents_extracted", event_id)
    assert extracted["document_type"] == "invoice" and extracted["duplicate_of"] is None
    decision = first(payables, "decisions", event_id)
    assert (decision["outcome"], decision["policy"]["rule"]) == ("AUTO", "touchless-invoice"), decision
    assert executed(payables, event_id, 3) == [
        ("erp.post_invoice", "SUCCEEDED"),
        ("payment.schedule", "SUCCEEDED"),
        ("email.remittance_advice", "SUCCEEDED"),
    ]
    assert any(PAID.fields["invoice_number"] in m["Subject"] for m in payables.smtp.messages)
    (payout,) = payables.payouts.payouts(reference(PAID))
    assert (payout["amount"], payout["currency"], payout["iban"]) == (
        PAID.fields["total"],
        PAID.fields["currency"],
        PAID.fields["iban"],
    )

    again = upload(payables, PAID, "invoice-again.pdf")
    assert again != event_id, "a second upload is an event of its own: extract, not ingest, finds the duplicate"
    duplicate = first(payables, "decisions", again)
    assert (duplicate["outcome"], duplicate["policy"]["rule"]) == ("REJECT", "duplicate-invoice"), duplicate
    assert duplicate["reason"] == "duplicate of an invoice already received" and duplicate["actions"] == []
    assert first(payables, "documents_extracted", again)["duplicate_of"] == event_id
    assert payables.payouts.stats()["by_reference"] == {reference(PAID): {"made": 1, "live": 1}}


def test_an_invoice_whose_iban_is_not_the_one_on_file_goes_to_review_with_that_reason_and_pays_nothing(
    payables: Payables,
) -> None:
    event_id = upload(payables, REDIRECTED, "redirected.pdf")
    review = first(payables, "review_requested", event_id)
    assert review["reason"] == "the vendor's IBAN changed from the one on file"
    assert review["policy"]["rule"] == "vendor-iban-changed" and review["priority"] == 1
    assert [r for r in payables.pipeline.tail.values("decisions") if r["event_id"] == event_id] == []
    assert payables.payouts.payouts(reference(REDIRECTED)) == []
