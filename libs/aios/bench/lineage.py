"""Records of one event on every topic, as each service writes them: for benchmarks, tests and demos.

`decision_value` follows the contract with decide (action ids from `aios.policy.actions`);
`event_records` gives a whole event's lineage, personal data included in its text, so that
redaction has something to find.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from aios.bench.events import SAMPLE_TRACEPARENT, received_value
from aios.kafka import topics
from aios.policy.actions import action_id

Action = tuple[str, dict[str, str]] | tuple[str, dict[str, str], tuple[str, dict[str, str]] | None]


def decision_value(
    tenant_id: str, actions: list[Action], *, outcome: str = "AUTO", event_id: str | None = None
) -> dict[str, Any]:
    """A decision for `actions`: (type, params) or (type, params, (compensation type, params))."""
    event_id = event_id or str(uuid.uuid4())
    now = datetime.now(UTC).replace(microsecond=0)
    return {
        "event_id": event_id,
        "tenant_id": tenant_id,
        "occurred_at": now,
        "decision_id": str(uuid.uuid4()),
        "outcome": outcome,
        "reason": "",
        "type": "support.ticket",
        "label": "card_charged_twice",
        "confidence": 0.97,
        "draft": None,
        "actions": [
            {
                "action_id": action_id(event_id, index, action[0]),
                "type": action[0],
                "params": action[1],
                "compensation": (
                    {"type": action[2][0], "params": action[2][1]} if len(action) > 2 and action[2] else None
                ),
            }
            for index, action in enumerate(actions)
        ],
        "policy": {"version": "sha256:policy-v1", "rule": "refund-small"},
        "reviewer": None,
        "decided_at": now,
        "trace": {"traceparent": SAMPLE_TRACEPARENT, "tracestate": None},
    }


CLASSIFICATION = {
    "label": "card_charged_twice",
    "confidence": 0.93,
    "oos": False,
    "top_k": [{"label": "card_charged_twice", "confidence": 0.93}],
    "model_name": "intents",
    "model_version": 3,
    "model_alias": "canary",
    "backend": "torch",
    "inference_ms": 12.5,
}
PASSAGES = [
    {"chunk_id": "refunds#2", "document_id": "refunds", "title": "Refunds", "score": 0.81, "snippet": "We refund..."},
    {
        "chunk_id": "cards#7",
        "document_id": "cards",
        "title": "Cards",
        "score": 0.64,
        "snippet": "Write to help@bank.example",
    },
]
TEXT = "I was charged twice, write to jane.doe@example.com or call +44 20 7946 0958"


def event_records(tenant_id: str, event_id: str | None = None) -> dict[str, dict[str, Any]]:
    """Catalogue topic → the event's record there (two action results under `aios.actions.executed#n`)."""
    received = received_value(TEXT, tenant_id, attributes={"customer": "C-1182"})
    received["source"] = "webhook:crm"
    received["event_id"] = event_id or received["event_id"]
    event_id = received["event_id"]
    now = datetime.now(UTC).replace(microsecond=0)
    common = {k: received[k] for k in ("event_id", "tenant_id", "occurred_at", "type", "text", "attributes", "trace")}
    draft = {
        "text": "We are sorry: the second charge will be refunded.",
        "citations": [{"document_id": "refunds", "chunk_id": "refunds#2"}],
        "generator": "extractive",
        "generator_version": "1.0",
    }
    review_id = str(uuid.uuid4())
    approved = decision_value(
        tenant_id,
        [("webhook.post", {"message": "refund"}), ("email.send", {"to": "jane.doe@example.com"})],
        outcome="APPROVED",
        event_id=event_id,
    )
    approved["reviewer"] = "rita@acme"
    policy = {"version": "sha256:policy-v1", "rule": "refund-small"}
    executed = [
        {
            "event_id": event_id,
            "tenant_id": tenant_id,
            "occurred_at": received["occurred_at"],
            "decision_id": approved["decision_id"],
            "action_id": action["action_id"],
            "action_type": action["type"],
            "connector": action["type"].split(".")[0],
            "status": "SUCCEEDED",
            "attempts": 1 + n,
            "external_ref": f"ref-{n}",
            "error": None,
            "executed_at": now,
            "trace": received["trace"],
        }
        for n, action in enumerate(approved["actions"])
    ]
    return {
        topics.EVENTS_RECEIVED.name: received,
        topics.EVENTS_CLASSIFIED.name: {**common, "classification": CLASSIFICATION, "shadow": None},
        topics.EVENTS_ENRICHED.name: {
            **common,
            "classification": CLASSIFICATION,
            "passages": PASSAGES,
            "draft": draft,
            "draft_skipped": None,
            "pii_found": ["email", "phone"],
            "timings_ms": {"retrieve": 4.0},
        },
        topics.REVIEW_REQUESTED.name: {
            **common,
            "review_id": review_id,
            "reason": "amount above the automatic limit",
            "priority": 2,
            "sla_deadline": now + timedelta(hours=4),
            "classification": CLASSIFICATION,
            "passages": PASSAGES,
            "draft": draft,
            "proposed_actions": approved["actions"],
            "policy": policy,
        },
        topics.REVIEW_COMPLETED.name: {
            "event_id": event_id,
            "tenant_id": tenant_id,
            "occurred_at": received["occurred_at"],
            "review_id": review_id,
            "verdict": "EDIT_APPROVE",
            "reviewer": "rita@acme",
            "corrected_label": None,
            "edited_draft": "We are sorry: we refund the second charge today.",
            "reason": "",
            "completed_at": now,
            "trace": received["trace"],
        },
        topics.DECISIONS.name: approved,
        f"{topics.ACTIONS_EXECUTED.name}#0": executed[0],
        f"{topics.ACTIONS_EXECUTED.name}#1": executed[1],
    }


TRACE_ID = SAMPLE_TRACEPARENT.split("-")[1]
