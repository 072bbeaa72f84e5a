"""`aios policy test`: what a policy decides for sample events, computed in process (no Kafka).

Sample events are JSON lines shaped like `aios.events.enriched` values; every field but `text`
and `classification.label` may be left out. Traffic state is simulated over the file in order,
with the same windows the decide service keeps, so a burst of low-confidence samples trips a
circuit breaker here exactly as it would in the stream.

A document event carries `document`: what extract recorded of it (`document_type`, `fields` with
`normalized` and `confidence`, `checks`, `duplicate_of`); its type defaults to
`document.<document_type>` and text and classification may be left out. It is looked up in the
reference data given (rows from CSV files), and signals across documents are computed over the
file's earlier documents, as the decide service does over the tenant's.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aios.policy.documents import DocumentFacts
from aios.policy.errors import PolicyError
from aios.policy.evaluate import EventFacts, StreamState, Verdict, evaluate, render_actions
from aios.policy.history import DocumentMarks, InMemoryDocumentHistory
from aios.policy.loading import LoadedPolicy
from aios.policy.reference import ReferenceLookup, ReferenceMatch
from aios.policy.stream import InMemoryStreamStats


class SampleEventsInvalid(PolicyError):
    """A line of the sample file is not an event the policy can be tried on."""


@dataclass(frozen=True)
class SampleOutcome:
    line: int
    facts: EventFacts
    state: StreamState
    verdict: Verdict
    actions: list[dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        document = self.facts.document
        return {
            "line": self.line,
            "event_id": self.facts.event_id,
            "label": self.facts.label,
            "confidence": self.facts.confidence,
            "outcome": self.verdict.outcome,
            "rule": self.verdict.rule,
            "reason": self.verdict.reason,
            "priority": self.verdict.priority,
            "sla_s": self.verdict.sla_s,
            "actions": self.actions,
            "stream": {
                "events_per_minute": self.state.events_per_minute,
                "events_5m": self.state.events_5m,
                "low_confidence_share_5m": round(self.state.low_confidence_share_5m, 4),
            },
            "refdata_revision": None if document is None else document.reference.revision,
        }


def read_sample_events(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, event) for each non-blank line; a bad line is an error naming it."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise SampleEventsInvalid(f"cannot read {path}: {exc}") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SampleEventsInvalid(f"{path}:{number}: not JSON: {exc.msg}") from None
        if not isinstance(value, dict):
            raise SampleEventsInvalid(f"{path}:{number}: an event is a JSON object")
        if "document" in value:
            yield number, _document_event(path, number, value)
            continue
        if not isinstance(value.get("text"), str):
            raise SampleEventsInvalid(f"{path}:{number}: an event is an object with at least a text (or a document)")
        if not isinstance(value.get("classification"), dict) or "label" not in value["classification"]:
            raise SampleEventsInvalid(f"{path}:{number}: give classification.label (and confidence)")
        yield number, value


def _document_event(path: Path, number: int, value: dict[str, Any]) -> dict[str, Any]:
    """A document sample with the defaults a document event has: its type from the document's."""
    document = value["document"]
    if not isinstance(document, dict) or not isinstance(document.get("fields", {}), dict):
        raise SampleEventsInvalid(f"{path}:{number}: document is an object with document_type, fields and checks")
    try:
        DocumentFacts.from_extraction(document)
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise SampleEventsInvalid(f"{path}:{number}: document: {exc}") from None
    kind = document.get("document_type", "other")
    return {"type": f"document.{kind}", "text": "", "classification": {"label": "", "confidence": 0.0}, **value}


def simulate(
    loaded: LoadedPolicy,
    events: Iterable[tuple[int, dict[str, Any]]],
    now: datetime | None = None,
    reference: ReferenceLookup | None = None,
) -> list[SampleOutcome]:
    """The verdict for each event, in order; events without `occurred_at` are one second apart.

    Documents are looked up in `reference` (without it, in no reference data: revision 0).
    """
    stats = InMemoryStreamStats()
    history = InMemoryDocumentHistory()
    clock = (now or datetime.now(UTC)).timestamp()
    low_below = loaded.policy.stream.low_confidence_below
    outcomes = []
    for position, (line, value) in enumerate(events):
        event = {"event_id": f"sample-{line}", "tenant_id": loaded.tenant, "type": "support.ticket", **value}
        facts = EventFacts.from_enriched(event)
        timestamp = _timestamp(value.get("occurred_at"), clock + position, line)
        state = stats.observe(facts.tenant_id, timestamp, facts.confidence < low_below)
        if "document" in value:
            facts = replace(facts, document=_document(loaded, facts, value["document"], timestamp, reference, history))
        verdict = evaluate(loaded.policy, facts, state)
        actions = render_actions(verdict.actions, facts, verdict) if verdict.outcome != "reject" else []
        outcomes.append(SampleOutcome(line, facts, state, verdict, actions))
    return outcomes


def _document(
    loaded: LoadedPolicy,
    facts: EventFacts,
    value: dict[str, Any],
    timestamp: float,
    reference: ReferenceLookup | None,
    history: InMemoryDocumentHistory,
) -> DocumentFacts:
    document = DocumentFacts.from_extraction(value)
    match = ReferenceMatch(0) if reference is None else reference.match(document.values())
    document = replace(document, reference=match)
    marks = DocumentMarks.of(facts.event_id, datetime.fromtimestamp(timestamp, UTC), document)
    return replace(document, signals=history.observe(marks, document, loaded.policy.documents.burst_window))


def _timestamp(value: Any, default: float, line: int) -> float:
    """Seconds since the epoch from an ISO-8601 string or epoch milliseconds."""
    if value is None:
        return default
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value) / 1000
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise SampleEventsInvalid(f"line {line}: occurred_at {value!r} is not ISO-8601 or epoch ms") from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
