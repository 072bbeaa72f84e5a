"""The sustained-rate search and its held/not-held judgement, on made-up pipelines."""

from __future__ import annotations

from collections.abc import Callable

from aios.bench.sustained import BacklogSample, Probe, backlog_growth, search_sustained


def pipeline_with_capacity(capacity: float) -> tuple[list[float], Callable[[float], Probe]]:
    offered: list[float] = []

    def probe(rate: float) -> Probe:
        offered.append(rate)
        return Probe(rate, max(0.0, rate - capacity), int(rate * 300))

    return offered, probe


def test_the_search_climbs_while_held_then_bisects_towards_the_capacity() -> None:
    offered, probe = pipeline_with_capacity(100.0)
    rate, probes = search_sustained(probe, start=60.0, probes=6)
    assert offered[:3] == [60.0, 75.0, 93.75]
    assert 93.75 <= rate <= 100.0
    assert [p.held for p in probes][:4] == [True, True, True, False]


def test_a_start_above_the_capacity_comes_down_and_never_reports_an_unheld_rate() -> None:
    _, probe = pipeline_with_capacity(30.0)
    rate, probes = search_sustained(probe, start=80.0, probes=5)
    assert 0 < rate <= 30.0
    assert all(p.held for p in probes if p.offered == rate)


def test_a_backlog_that_fills_then_stays_flat_is_held_and_one_that_keeps_growing_is_not() -> None:
    filling_then_flat = [BacklogSample(t, min(t, 10) * 5) for t in range(0, 60, 2)]
    growing = [BacklogSample(t, t * 3) for t in range(0, 60, 2)]
    assert backlog_growth(filling_then_flat) == 0.0
    assert Probe(50.0, backlog_growth(filling_then_flat), 3000).held
    assert backlog_growth(growing) == 3.0
    assert not Probe(50.0, backlog_growth(growing), 3000).held
