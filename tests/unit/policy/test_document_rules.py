"""The policy language over documents: fields, confidences, checks, reference lookups and signals."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from aios.policy.documents import DocumentFacts, DocumentSignals, FieldRead
from aios.policy.errors import PolicyInvalid
from aios.policy.evaluate import EventFacts, evaluate, render_actions
from aios.policy.history import DocumentMarks, InMemoryDocumentHistory
from aios.policy.loading import load_policy
from aios.policy.reference import InsurancePolicy, PurchaseOrder, ReferenceMatch, Vendor
from aios.refdata.book import ReferenceBook

ACME = Vendor("Acme Industrial GmbH", ("ACME",), "DE123456789", ("DE89370400440532013000",))
PO = PurchaseOrder("PO-1", "Acme Industrial GmbH", Decimal("1000.00"), "EUR", Decimal("500.00"))
HOME = InsurancePolicy(
    "HP-1", "Jane Doe", date(2025, 1, 1), date(2025, 12, 31), ("fire", "theft"), Decimal("5000"), Decimal("500")
)


def fields(**values: str | tuple[str, float]) -> dict[str, FieldRead]:
    return {name: FieldRead(*v) if isinstance(v, tuple) else FieldRead(v, 0.99) for name, v in values.items()}


INVOICE = DocumentFacts(
    "invoice",
    fields(vendor_name="ACME", iban="DE89370400440532013000", total="505.00", currency="EUR", po_number="po-1"),
    {"totals_add_up": True, "iban_checksum": True, "duplicate": True},
    reference=ReferenceMatch(3, ACME, PO, None),
)
CLAIM = DocumentFacts(
    "claim",
    fields(claimant_name="jane doe", date_of_loss="2025-03-01", loss_type="fire", claimed_amount="5400.00"),
    {"duplicate": True},
    reference=ReferenceMatch(4, None, None, HOME),
)


def one_rule(when: str) -> str:
    """A policy whose one rule has this `when` (a YAML flow mapping)."""
    return f"tenant: t\nrules:\n  - name: r\n    when: {when}\n    reject: {{reason: x}}\ndefault:\n  auto: {{}}\n"


def decides(when: str, document: DocumentFacts | None) -> bool:
    """Whether that rule matches a document event."""
    policy = load_policy(one_rule(when))
    facts = EventFacts("e", "t", "document.invoice", "", "", 0.0, False, document=document)
    return evaluate(policy.policy, facts).rule == "r"


@pytest.mark.parametrize(
    ("when", "holds"),
    [
        ("{document: {fields: {total: {gt: 500}, currency: EUR}}}", True),
        ("{document: {fields: {tax_amount: {exists: false}}}}", True),
        ("{document: {fields: {currency: USD}}}", False),
        ("{document: {min_confidence: {of: [total, iban], gte: 0.9}}}", True),
        ("{document: {min_confidence: {of: [total, due_date], gte: 0.9}}}", False),  # missing counts as 0
        ("{document: {checks: {totals_add_up: true}, checks_failed: false, duplicate: false}}", True),
        ("{document: {checks: {tax_id_format: true}}}", False),  # not checked is not passed
        ("{document: {vendor: {known: true, iban_on_file: true}}}", True),
        ("{document: {purchase_order: {found: true, vendor_matches: true, currency_matches: true}}}", True),
        ("{document: {purchase_order: {deviation_pct: {lte: 2}}}}", True),  # 505 vs 500 remaining: 1 %
        ("{document: {purchase_order: {deviation_pct: {lte: 0.5}}}}", False),
        ("{document: {insurance_policy: {found: false}}}", True),
        ("{document: {signals: {vendor_iban_changed: false, claims_on_policy: {lt: 1}}}}", True),
    ],
)
def test_invoice_conditions(when: str, holds: bool) -> None:
    assert decides(when, INVOICE) is holds


def test_a_document_rule_never_matches_an_event_without_a_document() -> None:
    assert not decides("{document: {duplicate: false}}", None)


def test_vendor_and_po_facts_fail_when_nothing_matched() -> None:
    unknown = replace(INVOICE, reference=ReferenceMatch(3))
    assert decides("{document: {vendor: {known: false, iban_on_file: false}}}", unknown)
    assert decides("{document: {purchase_order: {found: false, vendor_matches: false}}}", unknown)
    assert not decides("{document: {purchase_order: {deviation_pct: {gte: 0}}}}", unknown)
    other_iban = replace(INVOICE, fields={**INVOICE.fields, "iban": FieldRead("GB82WEST12345698765432", 0.99)})
    assert decides("{document: {vendor: {known: true, iban_on_file: false}}}", other_iban)
    failed = replace(INVOICE, checks={**INVOICE.checks, "totals_add_up": False}, duplicate_of="earlier")
    assert decides("{document: {checks_failed: true, duplicate: true, checks: {totals_add_up: false}}}", failed)


@pytest.mark.parametrize(
    ("loss", "kind", "claimed", "expected"),
    [
        ("2025-03-01", "fire", "5400.00", (True, True, True, 4900.0, True)),
        ("2026-01-01", "fire", "5400.00", (True, False, True, 4900.0, True)),
        ("2025-03-01", "water_damage", "100.00", (True, True, False, 0.0, True)),
        ("2025-03-01", "theft", "5600.00", (True, True, True, 5100.0, False)),
    ],
)
def test_insurance_policy_facts(loss: str, kind: str, claimed: str, expected: tuple[object, ...]) -> None:
    claim = replace(CLAIM, fields={**CLAIM.fields, **fields(date_of_loss=loss, loss_type=kind, claimed_amount=claimed)})
    facts = (claim.holder_matches, claim.active_on_loss_date, claim.loss_type_covered, claim.payable)
    assert (*facts, claim.payable_within_limit) == expected
    within = "true" if expected[4] else "false"
    assert decides(f"{{document: {{insurance_policy: {{found: true, payable_within_limit: {within}}}}}}}", claim)


def test_signals_across_documents() -> None:
    history = InMemoryDocumentHistory()
    start = datetime(2025, 5, 1, tzinfo=UTC)

    def claim(event: str, claimant: str, iban: str, policy: str, days: int) -> DocumentSignals:
        document = DocumentFacts("claim", fields(claimant_name=claimant, iban=iban, policy_number=policy))
        return history.observe(DocumentMarks.of(event, start + timedelta(days=days), document), document, 7 * 86400)

    assert claim("c1", "Jane Doe", "ES9121000418450200051332", "HP-1", 0) == DocumentSignals(0, False, 1)
    # Jane again with her own IBAN: not another claimant.
    assert claim("c2", "JANE  doe", "ES9121000418450200051332", "HP-1", 1).iban_other_claimants == 0
    # Mallory gives Jane's IBAN; the third claim on HP-1 within 7 days.
    assert claim("c3", "Mallory", "ES9121000418450200051332", "hp-1", 2) == DocumentSignals(1, False, 3)
    # Ten days on, no earlier claim on HP-1 is within the 7-day window.
    assert claim("c4", "Eve", "ES9121000418450200051332", "HP-1", 10) == DocumentSignals(2, False, 1)


def test_vendor_iban_changed_against_file_and_history() -> None:
    history = InMemoryDocumentHistory()
    at = datetime(2025, 5, 1, tzinfo=UTC)

    def invoice(event: str, iban: str, vendor: Vendor | None, minutes: int) -> bool:
        document = DocumentFacts(
            "invoice", fields(vendor_name="Globex", iban=iban), reference=ReferenceMatch(1, vendor)
        )
        marks = DocumentMarks.of(event, at + timedelta(minutes=minutes), document)
        return history.observe(marks, document, 86400).vendor_iban_changed

    assert invoice("i1", "DE89370400440532013000", ACME, 0) is False  # on file
    assert invoice("i2", "GB82WEST12345698765432", ACME, 1) is True  # not on file, and ACME has IBANs on file
    # A vendor not on file: the first IBAN seen is not a change, another one later is.
    assert invoice("i3", "FR1420041010050500013M02606", None, 2) is False
    assert invoice("i4", "FR1420041010050500013M02606", None, 3) is False
    assert invoice("i5", "NL91ABNA0417164300", None, 4) is True


def test_reference_book_matches_tax_id_alias_and_numbers() -> None:
    book = ReferenceBook()
    book.add([ACME, Vendor("Acme Industrial Ltd", (), "GB1", ())])
    book.add([PO, HOME])
    by_alias = book.match({"vendor_name": "A.C.M.E.", "po_number": "PO-1 ", "policy_number": "hp-1"})
    assert by_alias == ReferenceMatch(2, ACME, PO, HOME)
    # A tax id beats a name.
    assert book.match({"vendor_name": "ACME", "vendor_tax_id": "GB1"}).vendor == Vendor(
        "Acme Industrial Ltd", (), "GB1", ()
    )
    assert book.match({"vendor_name": "Globex"}) == ReferenceMatch(2)


def test_document_facts_survive_json() -> None:
    document = replace(CLAIM, signals=DocumentSignals(1, True, 3), duplicate_of="x")
    assert DocumentFacts.from_json(document.to_json()) == document
    assert DocumentFacts.from_json(INVOICE.to_json()) == INVOICE


def test_action_parameters_name_document_fields() -> None:
    policy = load_policy(
        "tenant: t\ndefault:\n  auto:\n    actions:\n"
        "      - {type: webhook.pay, params: {iban: '{fields.iban}', amount: '{fields.total}', po: '{fields.none}'}}\n"
    )
    facts = EventFacts("e", "t", "document.invoice", "", "", 0.0, False, document=INVOICE)
    verdict = evaluate(policy.policy, facts)
    params = render_actions(verdict.actions, facts, verdict)[0]["params"]
    assert params == {"iban": "DE89370400440532013000", "amount": "505.00", "po": ""}


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ("{document: {vendor: {known: maybe}}}", "rules[0].when.document.vendor.known"),
        ("{document: {min_confidence: {gte: 0.9}}}", "rules[0].when.document.min_confidence.of"),
        ("{document: {signals: {iban_changed: true}}}", "rules[0].when.document.signals.iban_changed: unknown field"),
    ],
)
def test_document_tests_are_validated_with_their_place(when: str, message: str) -> None:
    with pytest.raises(PolicyInvalid, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_policy(one_rule(when))
