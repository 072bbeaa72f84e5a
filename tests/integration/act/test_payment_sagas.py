"""Invoices and claims paid as sagas against the real stack, the payout simulator, an ERP and an SMTP server.

An approved invoice runs erp.post_invoice → payment.schedule → email.remittance_advice, an approved
claim claims.settle → payment.payout → email.claimant. A step failing for good undoes the completed
ones latest first; a payout is made once per invoice or claim, counted at the simulator, whatever
happens: retries, a second document of the same invoice, act killed between the payout and its record.
"""

from __future__ import annotations

import signal
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from aios.act.plan import compensation_id_for
from aios.bench.lineage import decision_value as decision
from aios.connectors.payment import business_reference
from aios.settings import ConnectionSettings
from tests.integration.act.conftest import ActHarness, make_harness
from tests.support.database import call_database
from tests.support.http_target import HttpTarget, free_port
from tests.support.payouts_sim import PayoutSim
from tests.support.smtp_sink import SmtpSink

FAST_RETRIES = {"base_delay_s": 0.2, "max_delay_s": 0.5, "jitter": 0.1}
IBAN = "DE89370400440532013000"
VENDOR = {"vendor_tax_id": "DE123456789", "vendor_name": "Acme GmbH"}


@pytest.fixture(scope="module")
def payouts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PayoutSim]:
    sim = PayoutSim(tmp_path_factory.mktemp("payouts-sim")).start()
    yield sim
    assert sim.stop() in (0, -signal.SIGTERM), "uvicorn ends a clean shutdown by raising SIGTERM again"


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def erp() -> Iterator[HttpTarget]:
    """The ERP and the claims system: an HTTP API that performs each Idempotency-Key once."""
    target = HttpTarget().start()
    yield target
    target.stop()


def configure(act: ActHarness, payouts: PayoutSim, erp: HttpTarget, smtp: SmtpSink, **payment: Any) -> str:
    """A new tenant whose erp, claims, payment and email connectors point at the test's systems."""
    who = f"tenant-{uuid.uuid4().hex[:8]}"
    act.configure(
        who,
        "erp",
        {
            "url": f"{erp.url}/erp/{who}",
            "operations": {
                "post_invoice": {"path": "/postings"},
                "reverse_posting": {"path": "/postings/{compensates_ref}/reverse"},
            },
            "retry": FAST_RETRIES,
        },
    )
    act.configure(
        who,
        "claims",
        {
            "url": f"{erp.url}/claims/{who}",
            "operations": {"settle": {"path": "/settlements"}, "reopen": {"path": "/claims/{compensates_ref}/reopen"}},
            "retry": FAST_RETRIES,
        },
    )
    act.configure(
        who, "payment", {"url": payouts.url, "api_key": payouts.api_key, "retry": {**FAST_RETRIES, **payment}}
    )
    act.configure(who, "email", {"host": "127.0.0.1", "port": smtp.port, "sender": "ap@aios.test"})
    return who


def invoice(who: str, number: str, vendor: dict[str, str] = VENDOR, amount: str = "1190.00") -> dict[str, Any]:
    return decision(
        who,
        [
            ("erp.post_invoice", {"invoice_number": number, "amount": amount}, ("erp.reverse_posting", {})),
            (
                "payment.schedule",
                {
                    **vendor,
                    "invoice_number": number,
                    "amount": amount,
                    "currency": "EUR",
                    "iban": IBAN,
                    "execute_on": "2027-01-31",
                },
                ("payment.cancel", {}),
            ),
            ("email.remittance_advice", {"to": "billing@acme.test", "subject": f"Paid {number}", "body": amount}),
        ],
        outcome="APPROVED",
    )


def claim(who: str, number: str) -> dict[str, Any]:
    return decision(
        who,
        [
            ("claims.settle", {"claim_number": number, "amount": "2500.00"}, ("claims.reopen", {})),
            (
                "payment.payout",
                {"claim_number": number, "amount": "2500.00", "currency": "EUR", "iban": IBAN},
                ("payment.cancel", {}),
            ),
            ("email.claimant", {"to": "claimant@example.com", "subject": f"Claim {number} paid", "body": "Paid."}),
        ],
    )


def steps(records: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(action type, status) in the order act reported them."""
    return [(r["action_type"], r["status"]) for r in records]


def saga_state(act: ActHarness, sent: dict[str, Any]) -> str:
    state: str = call_database(
        act.dsn,
        lambda pool: pool.fetchval("SELECT saga_state FROM act_decisions WHERE decision_id = $1", sent["decision_id"]),
    )
    return state


def test_an_approved_invoice_is_posted_scheduled_for_payment_and_advised(
    act: ActHarness, payouts: PayoutSim, erp: HttpTarget, smtp: SmtpSink
) -> None:
    who = configure(act, payouts, erp, smtp)
    sent = invoice(who, "INV-1001")
    act.send(sent)
    records = act.results({sent["event_id"]}, 3)
    assert steps(records) == [
        ("erp.post_invoice", "SUCCEEDED"),
        ("payment.schedule", "SUCCEEDED"),
        ("email.remittance_advice", "SUCCEEDED"),
    ]
    reference = business_reference({**VENDOR, "invoice_number": "INV-1001"})
    (payout,) = payouts.payouts(reference)
    assert payout["id"] == records[1]["external_ref"]
    assert (payout["idempotency_key"], payout["status"], payout["execute_on"], payout["amount"]) == (
        sent["actions"][1]["action_id"],
        "scheduled",
        "2027-01-31",
        "1190.00",
    )
    assert any(m["Subject"] == "Paid INV-1001" for m in smtp.messages)
    assert saga_state(act, sent) == "completed"
    stored = call_database(
        act.dsn,
        lambda pool: pool.fetchval(
            "SELECT config::text FROM connector_configs WHERE tenant_id = $1 AND connector = 'payment'", who
        ),
    )
    assert payouts.api_key not in stored and "sealed" in stored, "the payout API key is sealed at rest"


def test_an_approved_claim_is_settled_paid_and_the_claimant_told(
    act: ActHarness, payouts: PayoutSim, erp: HttpTarget, smtp: SmtpSink
) -> None:
    who = configure(act, payouts, erp, smtp)
    sent = claim(who, "CLM-2001")
    act.send(sent)
    records = act.results({sent["event_id"]}, 3)
    assert steps(records) == [
        ("claims.settle", "SUCCEEDED"),
        ("payment.payout", "SUCCEEDED"),
        ("email.claimant", "SUCCEEDED"),
    ]
    (payout,) = payouts.payouts("claim:CLM2001")
    assert (payout["id"], payout["status"]) == (records[1]["external_ref"], "paid")
    assert [r.path for r in erp.received(f"/claims/{who}")] == [f"/claims/{who}/settlements"]
    assert saga_state(act, sent) == "completed"


def test_a_payout_refused_for_good_reverses_the_posting_and_sends_no_advice(
    act: ActHarness, payouts: PayoutSim, erp: HttpTarget, smtp: SmtpSink
) -> None:
    who = configure(act, payouts, erp, smtp)
    payouts.fault(mode="refuse", operation="create", times=1, reason="account_closed")
    sent = invoice(who, "INV-1002")
    act.send(sent)
    records = act.results({sent["event_id"]}, 3)
    assert steps(records) == [
        ("erp.post_invoice", "SUCCEEDED"),
        ("payment.schedule", "FAILED"),
        ("erp.post_invoice", "COMPENSATED"),
    ]
    assert "account_closed" in records[1]["error"]
    posting = records[0]["external_ref"]
    (reversal,) = erp.received(f"/erp/{who}/postings/{posting}/reverse")
    assert reversal.key == compensation_id_for(sent["actions"][0]["action_id"])
    assert payouts.payouts(business_reference({**VENDOR, "invoice_number": "INV-1002"})) == []
    assert act.inbox_status(sent["actions"][2]["action_id"]) == "cancelled"
    assert saga_state(act, sent) == "compensated"
    (dead,) = act.records(act.deadletter, {sent["event_id"]}, lambda found: len(found) >= 1)
    assert "answered 422" in dead["reason"]


def test_an_advice_refused_for_good_cancels_the_payout_then_reverses_the_posting(
    act: ActHarness, payouts: PayoutSim, erp: HttpTarget, smtp: SmtpSink
) -> None:
    who = configure(act, payouts, erp, smtp)
    refusing = SmtpSink(refuse_first=100, refusal="550 5.1.1 mailbox unavailable").start()
    try:
        act.configure(who, "email", {"host": "127.0.0.1", "port": refusing.port, "sender": "ap@aios.test"})
        sent = invoice(who, "INV-1003")
        act.send(sent)
        records = act.results({sent["event_id"]}, 5)
    finally:
        refusing.stop()
    assert steps(records) == [
        ("erp.post_invoice", "SUCCEEDED"),
        ("payment.schedule", "SUCCEEDED"),
        ("email.remittance_advice", "FAILED"),
        ("payment.schedule", "COMPENSATED"),
        ("erp.post_invoice", "COMPENSATED"),
    ], "undone latest first: the payout, then the posting"
    (payout,) = payouts.payouts(business_reference({**VENDOR, "invoice_number": "INV-1003"}))
    assert (payout["id"], payout["status"]) == (records[1]["external_ref"], "cancelled")
    assert erp.received(f"/erp/{who}/postings/{records[0]['external_ref']}/reverse")
    assert saga_state(act, sent) == "compensated"


def test_an_unavailable_or_timing_out_payout_system_is_retried_with_the_same_key(
    act: ActHarness, payouts: PayoutSim, erp: HttpTarget, smtp: SmtpSink
) -> None:
    """503, then no answer, then the payout made but answered too late: the fourth attempt gets that payout."""
    who = configure(act, payouts, erp, smtp, timeout_s=1.0)
    payouts.fault(mode="unavailable", operation="create", times=1)
    payouts.fault(mode="timeout", operation="create", times=1, delay_s=3)
    payouts.fault(mode="slow", operation="create", times=1, delay_s=3)
    sent = claim(who, "CLM-2002")
    act.send(sent)
    records = act.results({sent["event_id"]}, 3, timeout_s=90)
    assert [r["status"] for r in records] == ["SUCCEEDED"] * 3
    (payout,) = payouts.payouts("claim:CLM2002")
    assert payout["idempotency_key"] == sent["actions"][1]["action_id"]
    assert (records[1]["attempts"], records[1]["external_ref"]) == (4, payout["id"])
    assert payouts.stats()["by_reference"]["claim:CLM2002"] == {"made": 1, "live": 1}


@pytest.mark.parametrize("kind", ["invoice", "claim"])
def test_the_same_document_twice_scanned_and_born_digital_is_paid_once(
    kind: str, act: ActHarness, payouts: PayoutSim, erp: HttpTarget, smtp: SmtpSink
) -> None:
    """Both decisions arrive together: one pays; the other is refused and its posting or settlement undone."""
    who = configure(act, payouts, erp, smtp)
    number = f"{kind[:3].upper()}-{uuid.uuid4().hex[:6]}"
    if kind == "invoice":
        born_digital = invoice(who, number)
        scanned = invoice(
            who, number.replace("-", " "), {"vendor_tax_id": "DE 123 456 789", "vendor_name": "ACME GMBH"}, "1190.00"
        )
        reference = business_reference({**VENDOR, "invoice_number": number})
    else:
        born_digital, scanned = claim(who, number), claim(who, number.lower())
        reference = business_reference({"claim_number": number})
    act.send(born_digital, scanned)
    events = {born_digital["event_id"], scanned["event_id"]}

    def settled(found: list[dict[str, Any]]) -> bool:
        undone = sum(r["status"] in ("FAILED", "COMPENSATED") for r in found)
        return undone >= 2 and any(r["action_type"].startswith("email.") for r in found)

    records = act.records(act.executed, events, settled)
    paid = {r["event_id"] for r in records if r["action_type"].startswith("payment.") and r["status"] == "SUCCEEDED"}
    refused = [r for r in records if r["status"] == "FAILED"]
    assert len(paid) == 1 and [r["event_id"] for r in refused] == list(events - paid)
    assert refused[0]["action_type"].startswith("payment.") and "paid already" in refused[0]["error"]
    assert payouts.stats()["by_reference"][reference] == {"made": 1, "live": 1}
    assert reference not in payouts.stats()["paid_twice"]


def test_act_killed_between_the_payout_and_its_record_pays_once_after_restart(
    connection: ConnectionSettings,
    migrated_database: str,
    topics: Callable[..., str],
    tmp_path: Path,
    payouts: PayoutSim,
    erp: HttpTarget,
    smtp: SmtpSink,
) -> None:
    """SIGKILL while the simulator holds the answer of a payout it has made; a new act pays with the same key."""
    act = make_harness(connection, migrated_database, topics)
    who = configure(act, payouts, erp, smtp, timeout_s=10.0)
    payouts.fault(mode="slow", operation="create", times=1, delay_s=5)
    group = f"act-{uuid.uuid4().hex[:8]}"
    first = act.start(tmp_path / "act-1.log", group, lease_s="3")
    sent = claim(who, f"CLM-{uuid.uuid4().hex[:6]}")
    reference = business_reference(sent["actions"][1]["params"])
    act.send(sent)
    payouts.wait_for(reference, 1)
    first.kill()
    payment = sent["actions"][1]["action_id"]
    assert act.inbox_status(payment) == "running", "the payout was made and nothing recorded before the crash"
    second = act.start(tmp_path / "act-2.log", group, lease_s="3")
    records = act.records(
        act.executed, {sent["event_id"]}, lambda found: any(r["action_type"] == "email.claimant" for r in found), 90
    )
    assert second.stop() == 0
    (payout,) = payouts.payouts(reference)
    recorded = next(r for r in records if r["action_id"] == payment)
    assert (recorded["status"], recorded["attempts"], recorded["external_ref"]) == ("SUCCEEDED", 2, payout["id"])
    assert payout["idempotency_key"] == payment
    assert payouts.stats()["by_reference"][reference] == {"made": 1, "live": 1}


def test_payouts_are_counted_by_tenant_what_they_pay_and_outcome(
    connection: ConnectionSettings,
    migrated_database: str,
    topics: Callable[..., str],
    tmp_path: Path,
    payouts: PayoutSim,
    erp: HttpTarget,
    smtp: SmtpSink,
) -> None:
    """An act of its own, scraped: an invoice paid, a claim paid and its second document refused, an invoice
    paid and cancelled when its advice fails; each counted once, by tenant and document type, at /metrics."""
    act = make_harness(connection, migrated_database, topics)
    port = free_port()
    service = act.start(tmp_path / "act.log", f"act-{uuid.uuid4().hex[:8]}", metrics_port=str(port))
    try:
        payer, undone = configure(act, payouts, erp, smtp), configure(act, payouts, erp, smtp)
        refusing = SmtpSink(refuse_first=100, refusal="550 5.1.1 mailbox unavailable").start()
        try:
            act.configure(undone, "email", {"host": "127.0.0.1", "port": refusing.port, "sender": "ap@aios.test"})
            number = f"CLM-{uuid.uuid4().hex[:6]}"
            sent = [invoice(payer, f"INV-{uuid.uuid4().hex[:6]}"), claim(payer, number), claim(payer, number.lower())]
            sent.append(invoice(undone, f"INV-{uuid.uuid4().hex[:6]}"))
            act.send(*sent)
            # 3 + 3 + 2 (settled, refused) + 1 (reopened) for the payer, 5 for the undone invoice.
            act.results({s["event_id"] for s in sent}, 14, timeout_s=90)
        finally:
            refusing.stop()
        scraped = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    finally:
        assert service.stop() == 0, service.log()[-4000:]
    counted = {
        (s.labels["tenant"], s.labels["document_type"], s.labels["outcome"]): s.value
        for family in text_string_to_metric_families(scraped)
        if family.name == "aios_payouts"
        for s in family.samples
        if s.name == "aios_payouts_total"
    }
    assert counted == {
        (payer, "invoice", "made"): 1,
        (payer, "claim", "made"): 1,
        (payer, "claim", "refused"): 1,
        (undone, "invoice", "made"): 1,
        (undone, "invoice", "compensated"): 1,
    }
    made = {
        s.labels["document_type"]: s.value
        for family in text_string_to_metric_families(scraped)
        for s in family.samples
        if s.name == "aios_payout_seconds_count"
    }
    assert made == {"invoice": 2, "claim": 1}
