"""Retrieval benchmark: search latency against knowledge-base size, and retrieve-generate throughput through Kafka."""

from __future__ import annotations

from typing import Any

from aios.bench.events import received_value


def classified_value(text: str, tenant_id: str, label: str, confidence: float = 0.9) -> dict[str, Any]:
    """An `aios.EventClassified` value as the classify worker writes it."""
    received = received_value(text, tenant_id)
    return {
        **{name: received[name] for name in ("event_id", "tenant_id", "occurred_at", "type", "text", "attributes")},
        "classification": {
            "label": label,
            "confidence": confidence,
            "oos": label == "oos",
            "top_k": [{"label": label, "confidence": confidence}],
            "model_name": "intents",
            "model_version": 1,
            "model_alias": "production",
            "backend": "torch",
            "inference_ms": 1.0,
        },
        "shadow": None,
        "trace": received["trace"],
    }
