"""What decide does with one record, whatever carries it: an event gets a decision or a review
request, a review verdict gets the final decision.

The traffic state (`StreamStats`) and the pending reviews (a mapping) are given to it: the Faust
app passes its tables, tests pass dictionaries.
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from aios.decide.decisions import (
    NO_POLICY_VERSION,
    PendingReview,
    completion_fingerprint,
    decision_json,
    decision_of_json,
    facts_of_json,
    no_policy_verdict,
    policy_decision,
    record_key,
    review_request,
    reviewed_decision,
)
from aios.decide.documents import DocumentSource, is_document
from aios.decide.errors import UnknownReview
from aios.decide.policies import PolicySource
from aios.documents.models import known_type
from aios.observability import metrics
from aios.policy.evaluate import EventFacts, evaluate
from aios.policy.model import DocumentSettings, StreamSettings
from aios.policy.stream import StreamStats
from aios.schemas.records import Decision, EventEnriched, ReviewCompleted, ReviewRequested, TraceContext

log = logging.getLogger(__name__)

DEFAULT_LOW_CONFIDENCE = StreamSettings().low_confidence_below
DEFAULT_BURST_WINDOW_S = DocumentSettings().burst_window


@dataclass(frozen=True)
class Output:
    """A record to produce: a decision, or a review request (its Avro value is `record.to_avro()`)."""

    kind: Literal["decision", "review"]
    record: Decision | ReviewRequested

    @property
    def key(self) -> bytes:
        return record_key(self.record)


class Decider:
    def __init__(
        self,
        policies: PolicySource,
        stats: StreamStats,
        pending: MutableMapping[str, PendingReview],
        *,
        no_policy_sla_s: int = 24 * 3600,
        service: str = "decide",
        documents: DocumentSource | None = None,
    ) -> None:
        self.policies = policies
        self.stats = stats
        self.pending = pending
        self.documents = documents
        """Where document events' facts come from; without it, rules on documents never match."""
        self.no_policy_sla_s = no_policy_sla_s
        self.service = service

    async def on_event(self, event: EventEnriched, timestamp: float, trace: TraceContext, now: datetime) -> Output:
        """Count the event in its tenant's windows, then apply the tenant's active policy
        (to a document's fields, reference data and signals too)."""
        facts = EventFacts.from_enriched(event.to_avro())
        loaded = await self.policies.active(facts.tenant_id, timestamp)
        if self.documents is not None and is_document(event):
            burst_window_s = loaded.policy.documents.burst_window if loaded else DEFAULT_BURST_WINDOW_S
            facts = replace(facts, document=await self.documents.facts(event, burst_window_s))
        low_below = loaded.policy.stream.low_confidence_below if loaded else DEFAULT_LOW_CONFIDENCE
        state = self.stats.observe(facts.tenant_id, timestamp, facts.confidence < low_below)
        metrics.DECIDE_EVENTS_PER_MINUTE.labels(self.service, facts.tenant_id).set(state.events_per_minute)
        metrics.DECIDE_LOW_CONFIDENCE_SHARE.labels(self.service, facts.tenant_id).set(state.low_confidence_share_5m)
        if loaded is None:
            verdict, version = no_policy_verdict(self.no_policy_sla_s), NO_POLICY_VERSION
        else:
            verdict, version = evaluate(loaded.policy, facts, state), loaded.version
        metrics.DECISIONS.labels(self.service, verdict.outcome.upper()).inc()
        if verdict.outcome != "review":
            decided = policy_decision(event, facts, verdict, version, now, trace)
            count_document(self.service, facts, decided.outcome, verdict.rule, decided)
            return Output("decision", decided)
        count_document(self.service, facts, "REVIEW", verdict.rule)
        request, entry = review_request(event, facts, verdict, version, now, trace)
        known = self.pending.get(request.review_id)
        if known is None or known["completion"] is None:
            # A redelivered event must not reopen a review that already has its verdict.
            self.pending[request.review_id] = entry
        return Output("review", request)

    async def on_completion(self, completion: ReviewCompleted, trace: TraceContext, now: datetime) -> Output | None:
        """The final decision for a verdict; the same decision again for a redelivered verdict;
        None for a second, different verdict on a completed review (each review completes once)."""
        review_id = completion.review_id
        entry = self.pending.get(review_id)
        if entry is None or entry["facts"]["tenant_id"] != completion.tenant_id:
            raise UnknownReview(f"no pending review {review_id} for tenant {completion.tenant_id}")
        fingerprint = completion_fingerprint(completion)
        if entry["completion"] is not None:
            if entry["completion"] == fingerprint:
                decided = decision_of_json(entry["decision"])
                return Output("decision", decided)
            log.warning("%s: review %s already completed; ignoring a second verdict", self.service, review_id)
            metrics.DECIDE_VERDICTS_IGNORED.labels(self.service).inc()
            return None
        version = entry["policy_version"]
        policy = None
        if completion.verdict == "RELABEL" and version != NO_POLICY_VERSION:
            policy = await self.policies.version(entry["facts"]["tenant_id"], version)
        decision = reviewed_decision(entry, completion, policy, now, trace)
        self.pending[review_id] = {**entry, "completion": fingerprint, "decision": decision_json(decision)}
        metrics.DECISIONS.labels(self.service, decision.outcome).inc()
        count_document(self.service, facts_of_json(entry["facts"]), decision.outcome, decision.policy.rule, decision)
        return Output("decision", decision)


def count_document(service: str, facts: EventFacts, outcome: str, rule: str, decision: Decision | None = None) -> None:
    """A document event's verdict by tenant, type, outcome and the rule that gave it (for REVIEW: why a person
    looks), and upload to `decision` (by policy, or after review); nothing for other events."""
    if facts.document is None:
        return
    document_type = known_type(facts.document.document_type)
    metrics.DOCUMENT_DECISIONS.labels(service, facts.tenant_id, document_type, outcome, rule).inc()
    if decision is not None:
        stage = "policy" if decision.reviewer is None else "reviewed"
        waited = max(0.0, (decision.decided_at - decision.occurred_at).total_seconds())
        metrics.DOCUMENT_DECISION_SECONDS.labels(service, document_type, stage).observe(waited)
