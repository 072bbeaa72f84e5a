"""Rollout plans as files, and judging a step's measurements against the plan's bounds."""

from __future__ import annotations

import pytest

from aios.paths import project_root
from aios.rollout.criteria import Measurements, judge
from aios.rollout.errors import RolloutError
from aios.rollout.plan import Criteria, load_plan, parse_plan


def test_the_shipped_plans_load() -> None:
    plan = load_plan(project_root() / "plans" / "intents.yaml")
    first = plan.steps[0]
    assert (first.name, first.share, first.shadow) == ("shadow", 0.0, True)
    assert plan.steps[-1].share == 1.0 and plan.steps[0].min_duration_s == 1800
    assert load_plan(project_root() / "plans" / "policy.yaml").steps[-1].min_duration_s == 0


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("steps: [{name: a, share: 0.5, min_duration: 1s}]", "last step has share 1"),
        ("steps: [{name: a, share: 0.2, shadow: true}, {name: b, share: 1}]", "either `shadow: true`"),
        ("steps: [{name: a, share: 1, min_duration: soon}]", "not a duration"),
        ("steps: []", "at least 1"),
    ],
)
def test_a_bad_plan_is_refused_saying_why(text: str, problem: str) -> None:
    with pytest.raises(RolloutError, match=problem):
        parse_plan(text)


def test_a_step_fails_on_each_broken_bound_and_only_once_it_has_enough_events() -> None:
    criteria = Criteria(min_sample=10, min_agreement=0.9, max_oos_share=0.2, max_latency_p99_s=0.5)
    bad = Measurements(events=50, agreement=0.4, oos_share=0.3, latency_p99_s=None, error_rate=0.9)
    assert judge(criteria, bad) == ["agreement 0.4 below 0.9", "oos share 0.3 above 0.2"]
    assert judge(criteria, Measurements(events=9, agreement=0.1)) == []
    assert judge(criteria, Measurements(events=10, agreement=0.95, oos_share=0.2, latency_p99_s=0.1)) == []
