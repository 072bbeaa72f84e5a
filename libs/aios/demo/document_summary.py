"""The demo's summary of its documents, per document type: touchless, review reasons, duplicates, payouts, timing.

Pure aggregation over what the demo observed of each document it sent; payouts "never twice" is the
payout simulator's own count (`/admin/stats`), not the demo's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from rich.table import Table

from aios.stats import percentile


@dataclass(frozen=True)
class DocumentOutcome:
    """What became of one sent document."""

    kind: str
    planted: str | None
    outcome: str | None
    """AUTO, REVIEW, REJECT, APPROVED or REJECTED (after a review), or None while not final."""
    review_reason: str | None
    """Why the policy sent it to a person; None when it did not."""
    uploaded_at: float
    paid_at: float | None = None
    """time.time() when its payout was made, if one was."""


@dataclass(frozen=True)
class TypeSummary:
    kind: str
    documents: int
    touchless: int
    review_reasons: Counter[str]
    duplicates_sent: int
    duplicates_caught: int
    payouts: int
    upload_to_payout_s: tuple[float, float] | None
    """p50 and p95, seconds."""

    @property
    def touchless_share(self) -> float:
        return self.touchless / self.documents if self.documents else 0.0


def summarise(outcomes: Iterable[DocumentOutcome]) -> dict[str, TypeSummary]:
    """Per document type; a duplicate counts as caught when the policy rejected it, a touchless document is AUTO."""
    by_kind: dict[str, list[DocumentOutcome]] = {}
    for each in outcomes:
        by_kind.setdefault(each.kind, []).append(each)
    summaries = {}
    for kind, docs in sorted(by_kind.items()):
        duplicates = [d for d in docs if d.planted == "duplicate"]
        waits = [d.paid_at - d.uploaded_at for d in docs if d.paid_at is not None]
        summaries[kind] = TypeSummary(
            kind=kind,
            documents=len(docs),
            touchless=sum(1 for d in docs if d.outcome == "AUTO"),
            review_reasons=Counter(d.review_reason for d in docs if d.review_reason is not None),
            duplicates_sent=len(duplicates),
            duplicates_caught=sum(1 for d in duplicates if d.outcome == "REJECT"),
            payouts=len(waits),
            upload_to_payout_s=(percentile(waits, 50), percentile(waits, 95)) if waits else None,
        )
    return summaries


def paid_twice(stats: Mapping[str, Any]) -> list[str]:
    """The business references the payout simulator paid more than once (its `/admin/stats`)."""
    return list(stats.get("paid_twice", []))


def summary_table(summaries: Mapping[str, TypeSummary], stats: Mapping[str, Any]) -> Table:
    """One column per document type, and the simulator's own count of payouts."""
    table = Table("figure", *summaries, title="Documents")
    rows: dict[str, list[str]] = {
        "sent": [str(s.documents) for s in summaries.values()],
        "touchless (AUTO)": [f"{s.touchless} ({s.touchless_share:.0%})" for s in summaries.values()],
        "sent to review, why": [
            "\n".join(f"{n} {reason}" for reason, n in s.review_reasons.most_common()) or "0"
            for s in summaries.values()
        ],
        "duplicates caught": [f"{s.duplicates_caught} of {s.duplicates_sent}" for s in summaries.values()],
        "payouts made": [str(s.payouts) for s in summaries.values()],
        "upload → payout p50 / p95": [
            f"{s.upload_to_payout_s[0]:.1f} s / {s.upload_to_payout_s[1]:.1f} s" if s.upload_to_payout_s else "n/a"
            for s in summaries.values()
        ],
    }
    for name, cells in rows.items():
        table.add_row(name, *cells)
    twice = paid_twice(stats)
    table.caption = (
        f"payout simulator: {stats.get('payouts', 0)} payouts for {stats.get('references', 0)} references, "
        + (f"[red]paid twice: {', '.join(twice)}[/]" if twice else "none paid twice")
    )
    return table
