"""The demo's After review table: completed items by verdict, the events decide resumed and what they became."""

from __future__ import annotations

import io

from rich.console import Console

from aios.demo import review_summary
from aios.demo.reviewer import Completed
from aios.demo.tracking import EventTrack


def test_the_table_counts_verdicts_resumed_outcomes_actions_and_the_wait() -> None:
    tracks = {
        "e1": EventTrack(outcome="APPROVED", review_id="r1", review_requested_ms=1_000, resumed_ms=3_000),
        "e2": EventTrack(outcome="REJECTED", review_id="r2", review_requested_ms=1_000, resumed_ms=9_000),
        "e3": EventTrack(outcome="REVIEW", review_id="r3", review_requested_ms=1_000),
        "e4": EventTrack(outcome="AUTO"),
    }
    tracks["e1"].executed = {"a1": "SUCCEEDED"}
    completed = [Completed("r1", "APPROVE", 0.0), Completed("r2", "REJECT", 0.0)]
    out = io.StringIO()
    review_summary(Console(file=out, width=200), tracks, completed)
    text = " ".join(out.getvalue().replace("│", " ").split())
    assert "completed by the demo reviewer 2 of 3 (approve 1, reject 1)" in text
    assert "resumed by decide 2: APPROVED 1, REJECTED 1" in text
    assert "their actions succeeded 1" in text
    assert "review request → decision p50 / max 5.0 s / 8.0 s" in text
