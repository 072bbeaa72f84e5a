"""Every kind of condition and outcome, first-match order, proposals and rendered actions."""

from __future__ import annotations

from dataclasses import replace

import pytest

from aios.policy.actions import action_id
from aios.policy.evaluate import EventFacts, StreamState, evaluate, evaluate_after_review, render_actions
from aios.policy.loading import load_policy
from aios.policy.model import Policy

FACTS = EventFacts(
    event_id="e-1",
    tenant_id="t-1",
    type="support.ticket",
    text="What is my balance?",
    label="balance",
    confidence=0.9,
    oos=False,
    attributes={"customer": "C-7", "amount": "250.00", "tier": "gold"},
    pii_found=(),
    draft="Your balance is under Accounts.",
)


def policy_with(when: str, default: str = "reject: {reason: default}") -> Policy:
    """A policy whose single rule `hit` (auto) has the given conditions."""
    text = f"tenant: t\nrules:\n  - name: hit\n    when: {when}\n    auto: {{}}\ndefault:\n  {default}\n"
    return load_policy(text).policy


def rule_of(when: str, facts: EventFacts = FACTS, state: StreamState | None = None) -> str:
    return evaluate(policy_with(when), facts, state).rule


@pytest.mark.parametrize(
    ("when", "facts", "rule"),
    [
        ("{type: support.ticket}", FACTS, "hit"),
        ("{type: 'support.*'}", FACTS, "hit"),
        ("{type: [invoice.*, claim.*]}", FACTS, "default"),
        ("{intent: balance}", FACTS, "hit"),
        ("{intent: [transfer, bal*]}", FACTS, "hit"),
        ("{intent: transfer}", FACTS, "default"),
        ("{confidence: {gte: 0.9}}", FACTS, "hit"),
        ("{confidence: {gt: 0.9}}", FACTS, "default"),
        ("{confidence: {gt: 0.5, lt: 0.95}}", FACTS, "hit"),
        ("{oos: false}", FACTS, "hit"),
        ("{oos: true}", FACTS, "default"),
        ("{oos: true}", replace(FACTS, oos=True, label="oos"), "hit"),
        ("{pii_found: false}", FACTS, "hit"),
        ("{pii_found: true}", FACTS, "default"),
        ("{pii_found: true}", replace(FACTS, pii_found=("email",)), "hit"),
        ("{pii_found: [iban, card]}", replace(FACTS, pii_found=("email",)), "default"),
        ("{pii_found: [iban, card]}", replace(FACTS, pii_found=("card",)), "hit"),
        ("{attributes: {amount: {gt: 1000}}}", FACTS, "default"),
        ("{attributes: {amount: {gt: 1000}}}", replace(FACTS, attributes={"amount": "1000.5"}), "hit"),
        ("{attributes: {amount: {gt: 1000}}}", replace(FACTS, attributes={"amount": "a lot"}), "default"),
        ("{attributes: {amount: {gt: 1000}}}", replace(FACTS, attributes={}), "default"),
        ("{attributes: {amount: {lte: 250}}}", FACTS, "hit"),
        ("{attributes: {amount: 250}}", FACTS, "hit"),
        ("{attributes: {tier: gold}}", FACTS, "hit"),
        ("{attributes: {tier: {in: [silver, gold]}}}", FACTS, "hit"),
        ("{attributes: {tier: {ne: gold}}}", FACTS, "default"),
        ("{attributes: {vip: {exists: false}}}", FACTS, "hit"),
        ("{attributes: {vip: {exists: true}}}", FACTS, "default"),
        ("{text: {empty: true}}", replace(FACTS, text="  \n"), "hit"),
        ("{text: {empty: true}}", FACTS, "default"),
        ("{text: {matches: '(?i)BALANCE'}}", FACTS, "hit"),
        ("{text: {max_length: 5}}", FACTS, "default"),
        ("{text: {min_length: 5}}", FACTS, "hit"),
        ("{}", FACTS, "hit"),
        ("{intent: balance, confidence: {lt: 0.5}}", FACTS, "default"),
    ],
)
def test_conditions(when: str, facts: EventFacts, rule: str) -> None:
    assert rule_of(when, facts) == rule


@pytest.mark.parametrize(
    ("when", "state", "rule"),
    [
        ("{stream: {events_per_minute: {gt: 100}}}", StreamState(events_per_minute=101), "hit"),
        ("{stream: {events_per_minute: {gt: 100}}}", StreamState(events_per_minute=100), "default"),
        ("{stream: {low_confidence_share_5m: {gt: 0.4}}}", StreamState(events_5m=10, low_confidence_5m=5), "hit"),
        ("{stream: {low_confidence_share_5m: {gt: 0.4}}}", StreamState(events_5m=10, low_confidence_5m=4), "default"),
        (
            "{stream: {low_confidence_share_5m: {gt: 0.4}, events_5m: {gte: 20}}}",
            StreamState(events_5m=10, low_confidence_5m=10),
            "default",
        ),
        ("{stream: {low_confidence_share_5m: {gt: 0.4}}}", StreamState(), "default"),
    ],
)
def test_stream_conditions(when: str, state: StreamState, rule: str) -> None:
    assert rule_of(when, FACTS, state) == rule


POLICY = load_policy(
    """\
tenant: t
rules:
  - name: junk
    when: {text: {empty: true}}
    reject: {reason: empty}
  - name: fraud
    when: {intent: report_fraud}
    review:
      reason: fraud
      priority: 1
      sla: 15m
      actions: [{type: webhook.post, params: {url: "http://desk/{attributes.customer}"}}]
  - name: unsure
    when: {confidence: {lt: 0.6}}
    review: {reason: unsure, sla: 2h}
  - name: answer
    when: {intent: [balance, transfer]}
    auto:
      reason: routine
      actions:
        - type: email.send
          params: {to: "{attributes.customer}", body: "{draft}", subject: "{label} ({confidence})"}
          compensation: {type: log.record, params: {message: "undo {event_id}"}}
        - type: log.record
          params: {message: "{rule}: {reason} {attributes.missing}|"}
default:
  review: {reason: no rule, priority: 4, sla: 1d}
"""
).policy


def test_first_matching_rule_wins() -> None:
    assert evaluate(POLICY, FACTS).rule == "answer"
    assert evaluate(POLICY, replace(FACTS, confidence=0.3)).rule == "unsure"
    assert evaluate(POLICY, replace(FACTS, text="", label="report_fraud", confidence=0.3)).rule == "junk"


def test_auto_carries_its_actions() -> None:
    verdict = evaluate(POLICY, FACTS)
    assert (verdict.outcome, verdict.reason) == ("auto", "routine")
    assert [a.type for a in verdict.actions] == ["email.send", "log.record"]
    assert verdict.priority is None and verdict.sla_s is None


def test_reject_carries_nothing() -> None:
    verdict = evaluate(POLICY, replace(FACTS, text=" "))
    assert (verdict.outcome, verdict.rule, verdict.reason, verdict.actions) == ("reject", "junk", "empty", ())


def test_review_with_its_own_actions() -> None:
    verdict = evaluate(POLICY, replace(FACTS, label="report_fraud"))
    assert (verdict.outcome, verdict.priority, verdict.sla_s) == ("review", 1, 900)
    assert [a.type for a in verdict.actions] == ["webhook.post"]


def test_review_proposes_the_next_matching_auto_rule() -> None:
    verdict = evaluate(POLICY, replace(FACTS, confidence=0.3))
    assert (verdict.rule, verdict.sla_s, verdict.priority) == ("unsure", 7200, 3)
    assert [a.type for a in verdict.actions] == ["email.send", "log.record"]
    nothing_below = evaluate(POLICY, replace(FACTS, confidence=0.3, label="weather"))
    assert nothing_below.rule == "unsure" and nothing_below.actions == ()


def test_default_rule() -> None:
    verdict = evaluate(POLICY, replace(FACTS, label="weather"))
    assert (verdict.outcome, verdict.rule, verdict.priority, verdict.sla_s) == ("review", "default", 4, 86400)


def test_after_review_a_corrected_label_is_decided_without_review_rules() -> None:
    relabelled = replace(FACTS, confidence=0.3).relabelled("transfer")
    assert (relabelled.confidence, relabelled.oos) == (1.0, False)
    verdict = evaluate_after_review(POLICY, relabelled)
    assert (verdict.outcome, verdict.rule) == ("auto", "answer")
    fraud = evaluate_after_review(POLICY, FACTS.relabelled("report_fraud"))
    assert (fraud.outcome, fraud.rule, [a.type for a in fraud.actions]) == ("auto", "fraud", ["webhook.post"])
    junk = evaluate_after_review(POLICY, replace(FACTS, text="").relabelled("balance"))
    assert junk.outcome == "reject"


def test_actions_are_rendered_with_stable_ids() -> None:
    verdict = evaluate(POLICY, FACTS)
    rendered = render_actions(verdict.actions, FACTS, verdict)
    assert rendered[0] == {
        "action_id": action_id("e-1", 0, "email.send"),
        "type": "email.send",
        "params": {"to": "C-7", "body": "Your balance is under Accounts.", "subject": "balance (0.9000)"},
        "compensation": {"type": "log.record", "params": {"message": "undo e-1"}},
    }
    assert rendered[1]["params"] == {"message": "answer: routine |"}
    assert rendered[1]["compensation"] is None
    assert render_actions(verdict.actions, FACTS, verdict) == rendered
    assert action_id("e-1", 0, "email.send") == action_id("e-1", 0, "email.send") != action_id("e-1", 1, "email.send")
    assert len(action_id("e-1", 0, "email.send")) == 32


def test_facts_from_an_enriched_value() -> None:
    value = {
        "event_id": "e-9",
        "tenant_id": "t-9",
        "type": "support.ticket",
        "text": "hi",
        "attributes": {"amount": "12"},
        "classification": {"label": "oos", "confidence": 0.2, "oos": True, "top_k": []},
        "passages": [],
        "draft": {"text": "hello", "citations": [], "generator": "x", "generator_version": "1"},
        "pii_found": ["email"],
    }
    facts = EventFacts.from_enriched(value)
    assert (facts.label, facts.confidence, facts.oos, facts.draft, tuple(facts.pii_found)) == (
        "oos",
        0.2,
        True,
        "hello",
        ("email",),
    )
    assert EventFacts.from_enriched({**value, "draft": None}).draft == ""
