"""The sustained rate: the highest open-loop rate the pipeline holds with a backlog that does not grow.

A burst says how fast a backlog drains, which is more than paced traffic gets (the previous report's
75 % level had a p99 of 18 s). Here each candidate rate is offered open loop for a while, the backlog
(events sent but not final) is sampled, and the rate is held when the backlog's trend over the second
half of the window stays under a small share of the offered rate. A search over candidate rates,
starting from the burst's figure, finds the highest rate held.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass

GROWTH_TOLERANCE = 0.02
"""A backlog growing by less than 2 % of the offered rate per second is noise, not a queue building up."""


@dataclass(frozen=True)
class BacklogSample:
    at_s: float
    """Seconds since the window started."""
    backlog: int
    """Events sent and not yet final."""


@dataclass(frozen=True)
class Probe:
    offered: float
    growth_per_s: float
    """Trend of the backlog over the window's second half, events per second."""
    events: int

    @property
    def held(self) -> bool:
        return self.growth_per_s <= GROWTH_TOLERANCE * self.offered


def backlog_growth(samples: list[BacklogSample]) -> float:
    """Least-squares slope of the backlog over the second half of the window (the first half fills the pipes)."""
    late = samples[len(samples) // 2 :]
    if len(late) < 2 or len({s.at_s for s in late}) < 2:
        return 0.0
    return statistics.linear_regression([s.at_s for s in late], [float(s.backlog) for s in late]).slope


def search_sustained(probe: Callable[[float], Probe], start: float, probes: int) -> tuple[float, list[Probe]]:
    """The highest rate held among `probes` tries: up by a quarter while held, then bisect the bracket.

    Returns that rate (0 when none held) and every probe, in order, for the report.
    """
    tried: list[Probe] = []
    held, failed = 0.0, float("inf")
    rate = start
    for _ in range(probes):
        result = probe(rate)
        tried.append(result)
        if result.held:
            held = max(held, rate)
        else:
            failed = min(failed, rate)
        rate = rate * 1.25 if failed == float("inf") else (held + failed) / 2 if held else rate * 0.6
    return held, tried
