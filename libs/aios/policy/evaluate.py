"""Evaluating a policy for one event: the first rule whose conditions all hold decides.

Pure functions over what the policy may see of an event (`EventFacts`) and of the tenant's
recent traffic (`StreamState`), so `aios policy test`, unit tests and the decide service give the
same answer for the same input.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from typing import Any

from aios.policy.actions import action_id
from aios.policy.documents import DocumentFacts
from aios.policy.model import (
    PLACEHOLDER,
    ActionSpec,
    Compare,
    Decides,
    DocumentTest,
    InsurancePolicyTest,
    OutcomeKind,
    Patterns,
    Policy,
    PurchaseOrderTest,
    SignalsTest,
    StreamTest,
    TextTest,
    VendorTest,
    When,
)


@dataclass(frozen=True)
class EventFacts:
    """What rules can test: the event, its prediction, its enrichment, and for a document what was read from it."""

    event_id: str
    tenant_id: str
    type: str
    text: str
    label: str
    confidence: float
    oos: bool
    attributes: Mapping[str, str] = field(default_factory=dict)
    pii_found: Sequence[str] = ()
    draft: str = ""
    document: DocumentFacts | None = None

    @classmethod
    def from_enriched(cls, value: Mapping[str, Any]) -> EventFacts:
        """Facts of an `aios.events.enriched` value (or anything shaped like it)."""
        classification = value.get("classification") or {}
        draft = value.get("draft") or {}
        return cls(
            event_id=str(value.get("event_id", "")),
            tenant_id=str(value.get("tenant_id", "")),
            type=str(value.get("type", "")),
            text=str(value.get("text", "")),
            label=str(classification.get("label", "")),
            confidence=float(classification.get("confidence", 0.0)),
            oos=bool(classification.get("oos", False)),
            attributes={str(k): str(v) for k, v in (value.get("attributes") or {}).items()},
            pii_found=tuple(str(kind) for kind in value.get("pii_found") or ()),
            draft=str(draft.get("text", "")) if isinstance(draft, Mapping) else str(draft or ""),
        )

    def relabelled(self, label: str) -> EventFacts:
        """The facts as a reviewer corrected them: their label, full confidence."""
        return replace(self, label=label, confidence=1.0, oos=label == "oos")


@dataclass(frozen=True)
class StreamState:
    """The tenant's recent traffic, this event included."""

    events_per_minute: int = 0
    events_5m: int = 0
    low_confidence_5m: int = 0

    @property
    def low_confidence_share_5m(self) -> float:
        return self.low_confidence_5m / self.events_5m if self.events_5m else 0.0


@dataclass(frozen=True)
class Verdict:
    """What the policy says about an event: outcome, the rule that said it, and the actions.

    For `auto`, `actions` run; for `review`, they are proposed and run only when a reviewer
    approves; for `reject`, there are none.
    """

    outcome: OutcomeKind
    rule: str
    reason: str
    actions: tuple[ActionSpec, ...] = ()
    priority: int | None = None
    sla_s: int | None = None


def evaluate(policy: Policy, facts: EventFacts, state: StreamState | None = None) -> Verdict:
    """The first matching rule's verdict, else the default's."""
    state = state or StreamState()
    for position, rule in enumerate(policy.rules):
        if matches(rule.when, facts, state):
            return _verdict(policy, rule.name, rule, facts, state, position + 1)
    return _verdict(policy, "default", policy.default, facts, state, len(policy.rules))


def evaluate_after_review(policy: Policy, facts: EventFacts) -> Verdict:
    """The decision for facts a reviewer corrected: review rules count as approved.

    Traffic state plays no part: the human, not the stream, vouches for the event now.
    """
    verdict = evaluate(policy, facts, StreamState())
    return replace(verdict, outcome="auto") if verdict.outcome == "review" else verdict


def _verdict(policy: Policy, name: str, rule: Decides, facts: EventFacts, state: StreamState, after: int) -> Verdict:
    if rule.auto is not None:
        return Verdict("auto", name, rule.auto.reason, tuple(rule.auto.actions))
    if rule.reject is not None:
        return Verdict("reject", name, rule.reject.reason)
    assert rule.review is not None
    proposed = rule.review.actions
    if proposed is None:
        proposed = list(_next_auto_actions(policy, facts, state, after))
    return Verdict("review", name, rule.review.reason, tuple(proposed), rule.review.priority, rule.review.sla)


def _next_auto_actions(policy: Policy, facts: EventFacts, state: StreamState, after: int) -> Sequence[ActionSpec]:
    """What the first matching `auto` rule after position `after` would run (the proposal of a review)."""
    for rule in policy.rules[after:]:
        if rule.auto is not None and matches(rule.when, facts, state):
            return rule.auto.actions
    if policy.default.auto is not None:
        return policy.default.auto.actions
    return ()


def matches(when: When, facts: EventFacts, state: StreamState) -> bool:
    """All of the rule's conditions hold (the cheap ones are tried first)."""
    if when.type is not None and not _any_pattern(when.type, facts.type):
        return False
    if when.intent is not None and not _any_pattern(when.intent, facts.label):
        return False
    if when.confidence is not None and not compare(when.confidence, facts.confidence):
        return False
    if when.oos is not None and when.oos != facts.oos:
        return False
    if when.pii_found is not None and not _pii(when.pii_found, facts.pii_found):
        return False
    if when.attributes is not None and not all(
        _attribute(test, facts.attributes.get(name)) for name, test in when.attributes.items()
    ):
        return False
    if when.stream is not None and not _stream(when.stream, state):
        return False
    if when.text is not None and not _text(when.text, facts.text):
        return False
    return when.document is None or (facts.document is not None and _document(when.document, facts.document))


def _any_pattern(patterns: Patterns, value: str) -> bool:
    return any(fnmatchcase(value, p) for p in ([patterns] if isinstance(patterns, str) else patterns))


def _pii(test: bool | list[str], found: Sequence[str]) -> bool:
    if isinstance(test, bool):
        return test == bool(found)
    return any(kind in found for kind in test)


def _attribute(test: Compare | str | float, value: str | None) -> bool:
    if isinstance(test, Compare):
        return compare(test, value)
    return value is not None and _equal(value, test)


def _text(test: TextTest, text: str) -> bool:
    return (
        (test.empty is None or test.empty == (not text.strip()))
        and (test.matches is None or re.search(test.matches, text) is not None)
        and (test.min_length is None or len(text) >= test.min_length)
        and (test.max_length is None or len(text) <= test.max_length)
    )


def _stream(test: StreamTest, state: StreamState) -> bool:
    tests = (
        (test.events_per_minute, state.events_per_minute),
        (test.events_5m, state.events_5m),
        (test.low_confidence_share_5m, state.low_confidence_share_5m),
    )
    return all(bound is None or compare(bound, value) for bound, value in tests)


def _document(test: DocumentTest, document: DocumentFacts) -> bool:
    if test.fields is not None and not all(
        _attribute(expected, document.value(name)) for name, expected in test.fields.items()
    ):
        return False
    if test.min_confidence is not None and not compare(
        test.min_confidence, document.min_confidence(test.min_confidence.of)
    ):
        return False
    if test.checks is not None and not all(document.checks.get(name) is passed for name, passed in test.checks.items()):
        return False
    flags = (
        (test.checks_failed, any(passed is False for passed in document.checks.values())),
        (test.duplicate, document.duplicate_of is not None),
    )
    if not _flags(flags):
        return False
    return (
        (test.vendor is None or _vendor(test.vendor, document))
        and (test.purchase_order is None or _purchase_order(test.purchase_order, document))
        and (test.insurance_policy is None or _insurance_policy(test.insurance_policy, document))
        and (test.signals is None or _signals(test.signals, document))
    )


def _flags(flags: Sequence[tuple[bool | None, bool]]) -> bool:
    """Each given expectation equals its fact."""
    return all(expected is None or expected == actual for expected, actual in flags)


def _vendor(test: VendorTest, document: DocumentFacts) -> bool:
    return _flags(((test.known, document.vendor_known), (test.iban_on_file, document.iban_on_file)))


def _purchase_order(test: PurchaseOrderTest, document: DocumentFacts) -> bool:
    flags = (
        (test.found, document.po_found),
        (test.vendor_matches, document.po_vendor_matches),
        (test.currency_matches, document.po_currency_matches),
    )
    return _flags(flags) and (test.deviation_pct is None or compare(test.deviation_pct, document.po_deviation_pct))


def _insurance_policy(test: InsurancePolicyTest, document: DocumentFacts) -> bool:
    flags = (
        (test.found, document.policy_found),
        (test.active_on_loss_date, document.active_on_loss_date),
        (test.loss_type_covered, document.loss_type_covered),
        (test.holder_matches, document.holder_matches),
        (test.payable_within_limit, document.payable_within_limit),
    )
    return _flags(flags) and (test.payable is None or compare(test.payable, document.payable))


def _signals(test: SignalsTest, document: DocumentFacts) -> bool:
    signals = document.signals
    return (
        _flags(((test.vendor_iban_changed, signals.vendor_iban_changed),))
        and (test.iban_other_claimants is None or compare(test.iban_other_claimants, signals.iban_other_claimants))
        and (test.claims_on_policy is None or compare(test.claims_on_policy, signals.claims_on_policy))
    )


def compare(test: Compare, value: str | float | None) -> bool:
    """Every bound of `test` holds for `value`; a missing value only satisfies `exists: false`."""
    if test.exists is not None and test.exists != (value is not None):
        return False
    if value is None:
        return test.exists is False
    number = _number(value)
    bounds = ((test.gt, float.__gt__), (test.gte, float.__ge__), (test.lt, float.__lt__), (test.lte, float.__le__))
    for bound, holds in bounds:
        if bound is not None and (number is None or not holds(number, float(bound))):
            return False
    if test.eq is not None and not _equal(value, test.eq):
        return False
    if test.ne is not None and _equal(value, test.ne):
        return False
    return test.in_ is None or any(_equal(value, option) for option in test.in_)


def _number(value: str | float) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _equal(value: str | float, expected: str | float) -> bool:
    """Numbers compare as numbers (`"1000.0"` equals 1000), anything else as text."""
    left, right = _number(value), _number(expected)
    if left is not None and right is not None:
        return left == right
    return str(value) == str(expected)


def render_actions(
    actions: Sequence[ActionSpec], facts: EventFacts, verdict: Verdict | None = None
) -> list[dict[str, Any]]:
    """`aios.Action` values: ids fixed by event, position and type; `{placeholders}` filled in."""
    context = _context(facts, verdict)
    rendered = []
    for index, action in enumerate(actions):
        compensation = action.compensation
        rendered.append(
            {
                "action_id": action_id(facts.event_id, index, action.type),
                "type": action.type,
                "params": render_params(action.params, context),
                "compensation": None
                if compensation is None
                else {"type": compensation.type, "params": render_params(compensation.params, context)},
            }
        )
    return rendered


def render_params(params: Mapping[str, str], context: Mapping[str, str]) -> dict[str, str]:
    """Placeholders replaced by their value; an attribute or field the event lacks becomes empty text."""
    return {name: PLACEHOLDER.sub(lambda m: context.get(m[1], ""), text) for name, text in params.items()}


def _context(facts: EventFacts, verdict: Verdict | None) -> dict[str, str]:
    context = {
        "event_id": facts.event_id,
        "tenant_id": facts.tenant_id,
        "type": facts.type,
        "text": facts.text,
        "label": facts.label,
        "confidence": f"{facts.confidence:.4f}",
        "draft": facts.draft,
        "reason": verdict.reason if verdict else "",
        "rule": verdict.rule if verdict else "",
    }
    context.update({f"attributes.{name}": value for name, value in facts.attributes.items()})
    if facts.document is not None:
        context.update({f"fields.{name}": value for name, value in facts.document.values().items()})
    return context
