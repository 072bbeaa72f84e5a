"""Side by side: what happened to each recorded event and what the candidate would have done (pure).

The figures of one version are computed the same way for both sides, so a difference in the report
is a difference in behaviour. An event that the record shows no decision for yet (still in flight
when the window was read) is replayed but left out of the before/after figures.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

OutcomeName = Literal["AUTO", "REVIEW", "REJECT"]
APPROVALS = frozenset({"APPROVE", "EDIT_APPROVE", "RELABEL"})
"""Verdicts after which the event's actions ran (a relabel decides again, under the reviewer's label)."""


@dataclass(frozen=True)
class Outcome:
    """What a version did (or would do) with one event, and under which label."""

    outcome: OutcomeName
    rule: str
    reason: str
    label: str

    def as_json(self) -> dict[str, str]:
        return {"outcome": self.outcome, "rule": self.rule, "reason": self.reason, "label": self.label}


@dataclass(frozen=True)
class Reviewed:
    """A reviewer's verdict; `label` is the label the reviewer vouched for (None for a rejection)."""

    verdict: str
    label: str | None

    @property
    def approved(self) -> bool:
        return self.verdict in APPROVALS


@dataclass(frozen=True)
class Replayed:
    event_id: str
    before: Outcome | None
    """None when the record holds no decision for the event."""
    after: Outcome
    reviewed: Reviewed | None = None

    @property
    def changed(self) -> bool:
        """The decision would differ: another outcome, or the same outcome by another rule."""
        return self.before is not None and (self.before.outcome, self.before.rule) != (
            self.after.outcome,
            self.after.rule,
        )


def figures(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """Automation rate, review load by reason, rejections and decisions per rule of one version."""
    kinds = Counter(o.outcome for o in outcomes)
    return {
        "events": len(outcomes),
        "automation_rate": round(kinds["AUTO"] / len(outcomes), 4) if outcomes else 0.0,
        "auto": kinds["AUTO"],
        "review": kinds["REVIEW"],
        "reject": kinds["REJECT"],
        "review_by_reason": dict(Counter(o.reason for o in outcomes if o.outcome == "REVIEW").most_common()),
        "rules": dict(Counter(o.rule for o in outcomes).most_common()),
    }


def confusion(pairs: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
    """Counts of (old label, new label), most frequent first; the diagonal is where nothing changed."""
    counts = Counter(pairs)
    return [
        {"before": b, "after": a, "events": n} for (b, a), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def agreement(replayed: Sequence[Replayed], side: Literal["before", "after"]) -> dict[str, Any]:
    """How one version agrees with the reviewers on the events they decided.

    `label`: share of events a reviewer vouched a label for on which the version's label is that label.
    `outcome`: share of reviewed events the version does not contradict: automating what a reviewer
    rejected, or rejecting what a reviewer approved, contradicts; sending it to review does not.
    """
    reviewed = [r for r in replayed if r.reviewed is not None and r.before is not None]
    labelled = [r for r in reviewed if r.reviewed is not None and r.reviewed.label is not None]

    def outcome_of(r: Replayed) -> Outcome:
        found = r.before if side == "before" else r.after
        assert found is not None
        return found

    label_hits = sum(1 for r in labelled if r.reviewed is not None and outcome_of(r).label == r.reviewed.label)
    contradictions = sum(
        1
        for r in reviewed
        if r.reviewed is not None
        and (
            (outcome_of(r).outcome == "AUTO" and not r.reviewed.approved)
            or (outcome_of(r).outcome == "REJECT" and r.reviewed.approved)
        )
    )
    return {
        "reviewed": len(reviewed),
        "labelled": len(labelled),
        "label": round(label_hits / len(labelled), 4) if labelled else None,
        "outcome": round(1 - contradictions / len(reviewed), 4) if reviewed else None,
    }


def compare(replayed: Sequence[Replayed]) -> dict[str, Any]:
    """The whole comparison as JSON: both sides' figures, label changes, changed decisions, reviewer agreement."""
    decided = [r for r in replayed if r.before is not None]
    befores = [r.before for r in decided if r.before is not None]
    changed = [r for r in decided if r.changed]
    return {
        "events": len(replayed),
        "undecided": len(replayed) - len(decided),
        "before": figures(befores),
        "after": figures([r.after for r in decided]),
        "label_changes": confusion((r.before.label, r.after.label) for r in decided if r.before is not None),
        "changed": [
            {"event_id": r.event_id, "before": r.before.as_json(), "after": r.after.as_json()}
            for r in changed
            if r.before is not None
        ],
        "reviewer_agreement": {"before": agreement(decided, "before"), "after": agreement(decided, "after")},
    }
