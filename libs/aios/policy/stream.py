"""The tenant traffic rules can test: events per minute and low-confidence share over 5 minutes.

Windows are on event time (the Kafka record's timestamp). The 5-minute figures are those of the
hopping window (size 5 min, step `step_s`) that started earliest and still holds the event, so
they cover the last 5 minutes to within one step. The decide service keeps them in Faust
tables; `InMemoryStreamStats` computes the same numbers in process for `aios policy test`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Protocol

from aios.policy.evaluate import StreamState


@dataclass(frozen=True)
class Windows:
    """Window sizes shared by the Faust tables and the in-process simulation."""

    minute_s: float = 60.0
    share_size_s: float = 300.0
    share_step_s: float = 60.0

    def minute_start(self, timestamp: float) -> float:
        return (timestamp // self.minute_s) * self.minute_s

    def share_window_start(self, timestamp: float) -> float:
        """Start of the earliest hopping window holding `timestamp` (as Faust's `HoppingWindow.earliest`)."""
        closest_step = (timestamp // self.share_step_s) * self.share_step_s
        return closest_step - self.share_size_s + self.share_step_s

    def share_lookback_s(self) -> float:
        """How far back from the current window that earliest window starts (Faust's `delta`)."""
        return self.share_size_s - self.share_step_s


class StreamStats(Protocol):
    def observe(self, tenant_id: str, timestamp: float, low_confidence: bool) -> StreamState:
        """Count one event and return the tenant's state with it included."""


class InMemoryStreamStats:
    """Per-tenant counts in step-sized buckets; enough for a file of sample events."""

    def __init__(self, windows: Windows | None = None) -> None:
        self.windows = windows or Windows()
        self._minutes: dict[tuple[str, float], int] = defaultdict(int)
        self._buckets: dict[tuple[str, float], list[int]] = defaultdict(lambda: [0, 0])

    def observe(self, tenant_id: str, timestamp: float, low_confidence: bool) -> StreamState:
        windows = self.windows
        minute = (tenant_id, windows.minute_start(timestamp))
        self._minutes[minute] += 1
        bucket = self._buckets[(tenant_id, (timestamp // windows.share_step_s) * windows.share_step_s)]
        bucket[0] += 1
        bucket[1] += int(low_confidence)
        start = windows.share_window_start(timestamp)
        total = low = 0
        steps = round(windows.share_size_s / windows.share_step_s)
        for i in range(steps):
            counts = self._buckets.get((tenant_id, start + i * windows.share_step_s))
            if counts:
                total, low = total + counts[0], low + counts[1]
        return StreamState(events_per_minute=self._minutes[minute], events_5m=total, low_confidence_5m=low)
