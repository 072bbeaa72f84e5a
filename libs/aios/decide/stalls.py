"""Noticing an input partition the Faust consumer stopped fetching while records wait on it.

faust-streaming takes a partition out of its fetch set when a stream's buffer is under pressure
and puts it back when the pressure drops; under bursts that hand-back can be missed, and the
partition then sits still, its records unread, until the worker restarts (seen here after a
burst of 1,500 events; faust-streaming issues #88, #166, #175 describe the same). The watch
compares each partition's fetch position with the broker's high watermark (asked each time: the
consumer's cached one stops moving with the fetches): a position that has not moved for
`stall_after_s` while records are waiting is handed back to the fetcher. Handing back a
partition that was only slow is harmless: under pressure Faust takes it out again.

The app's timer sees the guard as a `StallGuard`; `ResumingStallGuard` is the one it gets.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from aios.observability import metrics

log = logging.getLogger(__name__)


class StallGuard(Protocol):
    """Called every few seconds with the app's consumer."""

    async def check(self, consumer: Any) -> None:
        """Hand back to the fetcher any watched partition that stopped being fetched with records waiting."""
        ...


class ResumingStallGuard:
    """Watches the partitions of `topics` (`StallWatch`) and resumes the stalled ones."""

    def __init__(self, stall_after_s: float, topics: Iterable[str], service: str) -> None:
        self.watch = StallWatch(stall_after_s)
        self.topics = set(topics)
        self.service = service

    async def check(self, consumer: Any) -> None:
        mine = [tp for tp in consumer.assignment() if tp.topic in self.topics]
        if not mine:
            return
        # Ask the broker: the consumer's own high watermark stops moving with the fetches it stopped.
        ends = await consumer.highwaters(*mine)
        for tp in mine:
            if self.watch.stalled(tp, await consumer.position(tp), ends.get(tp), time.monotonic()):
                log.warning("%s: %s[%d] stopped being fetched with records waiting; resuming it", self.service, *tp)
                metrics.DECIDE_PARTITION_STALLS.labels(self.service, tp.topic).inc()
                consumer.on_buffer_drop(tp)
                consumer.resume_partitions([tp])


@dataclass
class StallWatch:
    stall_after_s: float
    _still: dict[Hashable, tuple[int, float]] = field(default_factory=dict)
    """Partition → (position, since when it has not moved)."""

    def stalled(self, tp: Hashable, position: int | None, highwater: int | None, now: float) -> bool:
        """True when `tp` has records past `position` and `position` has not moved for `stall_after_s`."""
        if position is None or highwater is None or position >= highwater:
            self._still.pop(tp, None)
            return False
        seen, since = self._still.get(tp, (position, now))
        if seen != position:
            seen, since = position, now
        if now - since >= self.stall_after_s:
            self._still[tp] = (position, now)  # give the hand-back time to work before the next one
            return True
        self._still[tp] = (seen, since)
        return False
