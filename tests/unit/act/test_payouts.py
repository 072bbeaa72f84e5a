"""Payout outcomes: which payment results count as made, refused, failed or undone, and what they paid."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from aios.act.payouts import payout_outcome
from aios.act.store import ClaimedAction, Source
from aios.connectors.errors import TransportError
from aios.connectors.payment import AlreadyPaid

INVOICE = {"vendor_name": "Acme", "invoice_number": "INV-7", "amount": "10.00", "currency": "EUR", "iban": "DE89"}
CLAIM = {"claim_number": "CL 9", "amount": "5.00", "currency": "EUR", "iban": "DE89"}


def claimed(action_type: str, params: dict[str, str]) -> ClaimedAction:
    return ClaimedAction(
        action_id="a1",
        decision_id="d1",
        tenant_id="t",
        event_id="e1",
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
        position=1,
        kind="action",
        compensates=None,
        compensates_type=None,
        compensates_ref=None,
        compensates_params=None,
        action_type=action_type,
        params=params,
        attempts=1,
        elapsed_s=0.0,
        trace={},
        source=Source("aios.decisions", 0, 0, None, b"", {}),
    )


def cancelling(paid: ClaimedAction) -> ClaimedAction:
    return replace(
        paid,
        action_id="c1",
        kind="compensation",
        compensates=paid.action_id,
        compensates_type=paid.action_type,
        compensates_ref="po_1",
        compensates_params=paid.params,
        action_type="payment.cancel",
        params={},
    )


def test_a_payout_made_refused_or_failed_of_an_invoice_or_a_claim() -> None:
    invoice, claim = claimed("payment.schedule", INVOICE), claimed("payment.payout", CLAIM)
    assert payout_outcome(invoice, "SUCCEEDED") == ("invoice", "made")
    assert payout_outcome(claim, "SUCCEEDED") == ("claim", "made")
    assert payout_outcome(claim, "FAILED", AlreadyPaid("claim:CL9 is paid already")) == ("claim", "refused")
    assert payout_outcome(invoice, "FAILED", TransportError("HTTP 500")) == ("invoice", "failed")


def test_a_cancelled_payout_is_counted_as_what_it_paid() -> None:
    """A cancel has no parameters of its own: what it undid is read from the payout it compensates."""
    undo = cancelling(claimed("payment.schedule", INVOICE))
    assert payout_outcome(undo, "COMPENSATED") == ("invoice", "compensated")
    assert payout_outcome(undo, "FAILED", TransportError("HTTP 500")) == ("invoice", "compensation_failed")


def test_other_actions_are_no_payouts() -> None:
    assert payout_outcome(claimed("erp.post_invoice", INVOICE), "SUCCEEDED") is None
    assert payout_outcome(cancelling(claimed("erp.post_invoice", INVOICE)), "COMPENSATED") is None
    assert payout_outcome(claimed("payment.cancel", {}), "SUCCEEDED") is None
    assert payout_outcome(claimed("payment.payout", {"amount": "1"}), "SUCCEEDED") == ("other", "made")
