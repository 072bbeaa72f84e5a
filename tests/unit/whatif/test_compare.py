"""The side-by-side figures of a replay, from replayed outcomes alone."""

from __future__ import annotations

from aios.whatif.compare import Outcome, Replayed, Reviewed, compare


def test_figures_changes_and_reviewer_agreement() -> None:
    routine = Outcome("AUTO", "routine", "routine", "balance")
    unsure = Outcome("REVIEW", "unsure", "model unsure", "balance")
    replayed = [
        Replayed("e1", routine, routine),
        Replayed("e2", unsure, routine, Reviewed("APPROVE", "balance")),
        Replayed("e3", unsure, Outcome("AUTO", "routine", "routine", "transfer"), Reviewed("REJECT", None)),
        Replayed(
            "e4", unsure, Outcome("REVIEW", "unsure", "model unsure", "bill_due"), Reviewed("RELABEL", "bill_due")
        ),
        Replayed("e5", None, routine),
    ]
    report = compare(replayed)
    assert (report["events"], report["undecided"]) == (5, 1)
    assert report["before"]["automation_rate"] == 0.25
    assert report["after"]["automation_rate"] == 0.75
    assert report["before"]["review_by_reason"] == {"model unsure": 3}
    assert report["after"]["rules"] == {"routine": 3, "unsure": 1}
    assert [c["event_id"] for c in report["changed"]] == ["e2", "e3"]
    assert {(r["before"], r["after"], r["events"]) for r in report["label_changes"]} == {
        ("balance", "balance", 2),
        ("balance", "transfer", 1),
        ("balance", "bill_due", 1),
    }
    # e2 and e4 carry a label from the reviewer: before, e4's label was wrong; the candidate gets it right.
    assert report["reviewer_agreement"]["before"] == {"reviewed": 3, "labelled": 2, "label": 0.5, "outcome": 1.0}
    # The candidate automates e3, which the reviewer rejected.
    assert report["reviewer_agreement"]["after"] == {"reviewed": 3, "labelled": 2, "label": 1.0, "outcome": 0.6667}
