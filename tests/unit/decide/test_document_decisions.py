"""Document events through the decider: facts from the document source, the revision in every decision."""

from __future__ import annotations

from dataclasses import replace

from prometheus_client import REGISTRY

from aios.decide.decider import Decider
from aios.decide.decisions import PendingReview
from aios.decide.documents import read_from_attributes
from aios.policy.documents import DocumentFacts, FieldRead
from aios.policy.loading import load_policy
from aios.policy.reference import ReferenceMatch, Vendor
from aios.policy.stream import InMemoryStreamStats
from aios.schemas.records import EventEnriched
from tests.support.decide import enriched_value
from tests.unit.decide.test_decider import Policies, complete, decide

POLICY = load_policy(
    """\
tenant: t
rules:
  - name: unsure
    when: {document: {min_confidence: {of: [total], lt: 0.9}}}
    review: {reason: unsure total, sla: 1h}
  - name: pay
    when: {document: {vendor: {known: true, iban_on_file: true}}}
    auto:
      actions: [{type: webhook.pay, params: {iban: "{fields.iban}", amount: "{fields.total}"}}]
default:
  review: {reason: nothing matched, sla: 1d}
"""
)
VENDOR = Vendor("Acme", (), None, ("DE89370400440532013000",))


class Documents:
    """A document source that knows one document's facts, and what it was asked."""

    def __init__(self, facts: DocumentFacts) -> None:
        self.document = facts
        self.asked: list[tuple[str, int]] = []

    async def facts(self, event: EventEnriched, burst_window_s: int) -> DocumentFacts:
        self.asked.append((event.event_id, burst_window_s))
        return self.document


def document(total_confidence: float) -> DocumentFacts:
    fields = {"iban": FieldRead("DE89370400440532013000", 0.99), "total": FieldRead("120.00", total_confidence)}
    return DocumentFacts("invoice", fields, reference=ReferenceMatch(7, VENDOR))


def decider(documents: Documents, pending: dict[str, PendingReview] | None = None) -> Decider:
    pending = {} if pending is None else pending
    return Decider(Policies({"t": POLICY}), InMemoryStreamStats(), pending, documents=documents)


def test_a_document_decision_records_the_revision_it_looked_up() -> None:
    documents = Documents(document(0.99))
    event = enriched_value("t", event_type="document.invoice", draft=None)
    value = decide(decider(documents), event).value
    assert (value["outcome"], value["policy"]["rule"], value["refdata_revision"]) == ("AUTO", "pay", 7)
    assert value["actions"][0]["params"] == {"iban": "DE89370400440532013000", "amount": "120.00"}
    assert documents.asked == [(event["event_id"], 30 * 86400)]


def test_other_events_look_nothing_up() -> None:
    documents = Documents(document(0.99))
    d = decider(documents, {})
    output = decide(d, enriched_value("t"))
    assert (output.kind, output.value["policy"]["rule"], documents.asked) == ("review", "default", [])
    assert complete(d, output.value, "REJECT").value["refdata_revision"] is None


def test_a_reviewed_document_keeps_its_facts_and_revision() -> None:
    pending: dict[str, PendingReview] = {}
    d = decider(Documents(document(0.5)), pending)
    request = decide(d, enriched_value("t", event_type="document.invoice", draft=None))
    assert (request.kind, request.value["policy"]["rule"]) == ("review", "unsure")
    before = {review_id: dict(entry) for review_id, entry in pending.items()}
    approved = complete(d, request.value, "APPROVE")
    # Proposed actions are the next matching auto rule's, rendered from the document's fields.
    assert approved.value["actions"][0]["params"] == {"iban": "DE89370400440532013000", "amount": "120.00"}
    assert approved.value["refdata_revision"] == 7
    # A relabel decides again on the kept facts: the document's, at the same revision.
    relabelled = complete(decider(Documents(document(0.99)), before), request.value, "RELABEL", corrected_label="x")
    assert (relabelled.value["outcome"], relabelled.value["refdata_revision"]) == ("APPROVED", 7)
    assert relabelled.value["actions"][0]["params"]["amount"] == "120.00"


def test_an_approval_pays_what_the_reviewer_corrected() -> None:
    """The amount read was unsure and wrong: the payment carries the reviewer's amount, never the misread one."""
    d = decider(Documents(document(0.5)), {})
    request = decide(d, enriched_value("t", event_type="document.invoice", draft=None))
    approved = complete(d, request.value, "APPROVE", corrected_fields={"total": "102.00"})
    assert approved.value["actions"][0]["params"] == {"iban": "DE89370400440532013000", "amount": "102.00"}


def test_a_document_without_a_recorded_reading_is_vouched_for_by_nobody() -> None:
    event = EventEnriched.from_avro(
        enriched_value(
            "t",
            event_type="document.claim",
            attributes={"field_claimed_amount": "10.00", "document_duplicate_of": "e0", "customer": "c"},
        )
    )
    facts = read_from_attributes(event)
    assert facts == replace(DocumentFacts("claim", {"claimed_amount": FieldRead("10.00", 0.0)}), duplicate_of="e0")


def counted(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, {"service": "decide", **labels}) or 0.0


def test_documents_are_counted_by_tenant_type_outcome_and_rule_and_timed_from_upload() -> None:
    """Touchless (AUTO by policy) and sent to review (by the rule that sent it), then approved after review."""
    touchless = {"tenant": "t", "document_type": "invoice", "outcome": "AUTO", "rule": "pay"}
    reviewed = {"tenant": "t", "document_type": "invoice", "outcome": "REVIEW", "rule": "unsure"}
    approved = {**reviewed, "outcome": "APPROVED"}
    names = ("aios_document_decisions_total",) * 3
    timed = {"document_type": "invoice", "stage": "policy"}
    before = [counted(n, **labels) for n, labels in zip(names, (touchless, reviewed, approved), strict=True)]
    timed_before = counted("aios_document_decision_seconds_count", **timed)
    decide(decider(Documents(document(0.99))), enriched_value("t", event_type="document.invoice", draft=None))
    d = decider(Documents(document(0.5)), {})
    request = decide(d, enriched_value("t", event_type="document.invoice", draft=None))
    complete(d, request.value, "APPROVE")
    after = [counted(n, **labels) for n, labels in zip(names, (touchless, reviewed, approved), strict=True)]
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1, 1]
    assert counted("aios_document_decision_seconds_count", **timed) - timed_before == 1
    assert counted("aios_document_decision_seconds_count", document_type="invoice", stage="reviewed") >= 1


def test_an_event_type_nobody_extracted_is_counted_as_other() -> None:
    """The type of an event is the caller's word: a label value outside the extractor's vocabulary is `other`."""
    labels = {"tenant": "t", "document_type": "other", "outcome": "REVIEW", "rule": "unsure"}
    before = counted("aios_document_decisions_total", **labels)
    decide(decider(Documents(DocumentFacts("made-up-9f3c"))), enriched_value("t", event_type="document.x", draft=None))
    assert counted("aios_document_decisions_total", **labels) - before == 1
    assert counted("aios_document_decisions_total", **{**labels, "document_type": "made-up-9f3c"}) == 0


def test_events_that_are_not_documents_are_not_counted_as_documents() -> None:
    total = sum(s.value for m in REGISTRY.collect() if m.name == "aios_document_decisions" for s in m.samples)
    decide(decider(Documents(document(0.99))), enriched_value("t"))
    assert sum(s.value for m in REGISTRY.collect() if m.name == "aios_document_decisions" for s in m.samples) == total
