"""Noticing records Faust skipped, so decide reads them again instead of losing them.

Seen in the demo: right after a long table recovery, under a burst, faust-streaming handed the
agents the first records of each input partition, then a block of four or five later offsets
never reached them, and the consumer went on (and committed) past them: 24 of 1,000 events
never decided. Our input topics are written without transactions and never compacted, so their
offsets are contiguous: a record whose offset is past the next one expected on its partition
means records were skipped. The agent then seeks the partition back to the first skipped offset;
records it handles twice produce the same derived ids, so downstream sees harmless duplicates.
A rebalance forgets what was expected (another worker may have handled those offsets).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field


@dataclass
class OffsetGaps:
    _next: dict[Hashable, int] = field(default_factory=dict)
    """Partition → the offset expected next."""
    _healed: set[tuple[Hashable, int]] = field(default_factory=set)
    """Gaps already sent back for, by (partition, first skipped offset): never twice."""

    def observe(self, tp: Hashable, offset: int) -> int | None:
        """The first skipped offset when `offset` jumps past the one expected (once per gap), else None."""
        expected = self._next.get(tp)
        self._next[tp] = offset + 1
        if expected is None or offset <= expected or (tp, expected) in self._healed:
            return None
        self._healed.add((tp, expected))
        return expected

    def forget(self) -> None:
        """After a rebalance: the next record of each partition starts afresh."""
        self._next.clear()
