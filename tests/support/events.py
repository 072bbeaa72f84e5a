"""Valid `aios.EventReceived` values for tests."""

from __future__ import annotations

from typing import Any

from aios.bench.events import received_value


def event(text: str = "my card was charged twice", tenant: str = "acme", **overrides: Any) -> dict[str, Any]:
    return {**received_value(text, tenant), **overrides}
