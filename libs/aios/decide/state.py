"""Per-tenant windowed state in Faust tables: events per minute and the 5-minute low-confidence share.

Both tables are keyed by tenant and fed from the by-tenant stream, so one tenant's counts live in
one partition (and one worker) however many decide instances share the group. Their changelog
topics restore them after a restart. Windows follow the records' timestamps (event time).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import faust

from aios.policy.evaluate import StreamState
from aios.policy.stream import Windows

EXPIRES = timedelta(minutes=15)
"""Windows older than this are dropped from the tables (the rules look 5 minutes back)."""

CHANGELOG_CONFIGS = {"segment.ms": str(10 * 60 * 1000)}
"""Changelog segments roll every 10 minutes, so compaction and window expiry can reach them: with
Kafka's 1 GB default they never roll here and a restart replays the whole history (27 s, and
growing, after a day of benchmarks)."""


def _zero_counts() -> list[int]:
    return [0, 0]


def _add_counts(current: list[int], increment: list[int]) -> list[int]:
    return [current[0] + increment[0], current[1] + increment[1]]


class FaustStreamStats:
    """`StreamStats` over two windowed tables; call `observe` while handling the event it counts."""

    def __init__(self, app: faust.App, windows: Windows, partitions: int) -> None:
        self.windows = windows
        self.per_minute: Any = app.Table(
            "events-per-minute",
            default=int,
            partitions=partitions,
            extra_topic_configs=CHANGELOG_CONFIGS,
            help="Events per tenant and minute.",
        ).tumbling(windows.minute_s, expires=EXPIRES)
        self.confidence: Any = app.Table(
            "confidence-5m",
            default=_zero_counts,
            partitions=partitions,
            extra_topic_configs=CHANGELOG_CONFIGS,
            help="[events, low-confidence events] per tenant over 5 minutes, hopping.",
        ).hopping(windows.share_size_s, windows.share_step_s, expires=EXPIRES)

    def observe(self, tenant_id: str, timestamp: float, low_confidence: bool) -> StreamState:
        """Faust takes the time from the record being handled; `timestamp` is that record's."""
        self.per_minute[tenant_id] += 1
        self.confidence[tenant_id].apply(_add_counts, [1, int(low_confidence)])
        total, low = self.confidence[tenant_id].delta(self.windows.share_lookback_s())
        per_minute = int(self.per_minute[tenant_id].current())
        return StreamState(events_per_minute=per_minute, events_5m=int(total), low_confidence_5m=int(low))
