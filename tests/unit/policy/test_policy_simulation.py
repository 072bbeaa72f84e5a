"""`aios policy test` logic: sample files, simulated windows, and the windows' agreement with Faust's."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from faust.windows import HoppingWindow

from aios.paths import project_root
from aios.policy.loading import load_policy_file
from aios.policy.simulate import SampleEventsInvalid, read_sample_events, simulate
from aios.policy.stream import InMemoryStreamStats, Windows

POLICIES = project_root() / "policies"


def test_demo_samples_hit_every_kind_of_rule() -> None:
    loaded = load_policy_file(POLICIES / "demo.yaml")
    outcomes = simulate(loaded, read_sample_events(POLICIES / "samples" / "demo-events.jsonl"))
    by_event = {o.facts.event_id: (o.verdict.outcome, o.verdict.rule) for o in outcomes}
    assert by_event["demo-01"] == ("auto", "routine-answer")
    assert by_event["demo-03"] == ("review", "fraud-report")
    assert by_event["demo-05"] == ("review", "out-of-scope")
    assert by_event["demo-06"] == ("review", "low-confidence")
    assert by_event["demo-07"] == ("review", "personal-data")
    assert by_event["demo-08"] == ("review", "large-amount")
    assert by_event["demo-09"] == ("auto", "routine-answer")
    assert by_event["demo-10"] == ("reject", "empty-or-abusive")
    assert by_event["demo-11"] == ("reject", "empty-or-abusive")
    assert by_event["demo-12"] == ("review", "default")
    assert by_event["demo-14"] == ("review", "document-needs-review")  # however confident the intent
    fraud = next(o for o in outcomes if o.facts.event_id == "demo-03")
    assert fraud.verdict.priority == 1 and fraud.verdict.sla_s == 900
    assert fraud.actions[0]["params"]["customer"] == "C-1003"


def test_demo_drift_trips_and_resets_the_circuit_breaker() -> None:
    loaded = load_policy_file(POLICIES / "demo.yaml")
    outcomes = simulate(loaded, read_sample_events(POLICIES / "samples" / "demo-drift.jsonl"))
    rules = [o.verdict.rule for o in outcomes]
    assert rules[:19] == ["low-confidence"] * 19
    assert rules[19:30] == ["circuit-breaker"] * 11  # even the confident ones, while the share is high
    assert outcomes[29].state.low_confidence_share_5m == pytest.approx(24 / 30)
    assert rules[30:] == ["routine-answer"] * 3  # five minutes later the window holds only good predictions


def test_bad_sample_lines_name_their_line(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text('{"text": "a", "classification": {"label": "x"}}\n\n{"text": 5}\n')
    with pytest.raises(SampleEventsInvalid, match=r"s.jsonl:3: an event is an object with at least a text"):
        list(read_sample_events(path))
    path.write_text("{not json\n")
    with pytest.raises(SampleEventsInvalid, match=r"s.jsonl:1: not JSON"):
        list(read_sample_events(path))
    path.write_text('{"text": "a"}\n')
    with pytest.raises(SampleEventsInvalid, match=r"classification.label"):
        list(read_sample_events(path))


@pytest.mark.parametrize("step", [30.0, 60.0, 100.0])
def test_share_window_is_fausts_earliest_hopping_window(step: float) -> None:
    windows = Windows(share_size_s=300.0, share_step_s=step)
    faust_window = HoppingWindow(300.0, step)
    rng = random.Random(7)
    for _ in range(500):
        timestamp = rng.uniform(1.7e9, 1.8e9)
        start, _end = faust_window.earliest(timestamp)
        assert windows.share_window_start(timestamp) == start
        assert faust_window.delta(timestamp, windows.share_lookback_s())[0] == start


def test_in_memory_counts_follow_the_windows() -> None:
    stats = InMemoryStreamStats(Windows(share_step_s=60.0))
    base = 1_800_000_000.0  # a minute boundary
    assert stats.observe("t", base + 1, True).events_per_minute == 1
    state = stats.observe("t", base + 2, False)
    assert (state.events_per_minute, state.events_5m, state.low_confidence_5m) == (2, 2, 1)
    assert stats.observe("other", base + 3, True).events_5m == 1  # tenants apart
    later = stats.observe("t", base + 61, False)
    assert (later.events_per_minute, later.events_5m) == (1, 3)
    gone = stats.observe("t", base + 301, False)  # the first minute has left the 5-minute window
    assert (gone.events_5m, gone.low_confidence_5m) == (2, 0)
