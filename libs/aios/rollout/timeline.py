"""A rollout's timeline as a plot: the candidate's traffic share step by step, what each judgement measured,
and where it was promoted or rolled back (SVG, drawn with matplotlib)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aios.plotting import pyplot, svg_of
from aios.rollout.store import Rollout


def timeline_svg(rollouts: list[tuple[Rollout, list[dict[str, Any]]]]) -> str:
    """One panel per rollout (oldest first): share of traffic (steps) and agreement/events at each judgement."""
    figure, panels = pyplot().subplots(len(rollouts), 1, figsize=(8, 2.6 * len(rollouts)), squeeze=False)
    for (rollout, history), axes in zip(rollouts, panels[:, 0], strict=True):
        start = rollout.started_at

        def seconds(at: str, start: datetime = start) -> float:
            return (datetime.fromisoformat(at) - start).total_seconds()

        steps = [(seconds(h["at"]), rollout.plan.steps[h["step"]].share) for h in history if h["what"] == "step"]
        end = seconds(history[-1]["at"]) if history else 0.0
        if steps:
            axes.step(
                [t for t, _ in steps] + [end],
                [s for _, s in steps] + [steps[-1][1]],
                where="post",
                color="#1f77b4",
                label="traffic share",
            )
        judged = [(seconds(h["at"]), h["measurements"] or {}) for h in history if h["what"] == "judged"]
        agreement = [(t, m["agreement"]) for t, m in judged if m.get("agreement") is not None]
        if agreement:
            axes.plot(*zip(*agreement, strict=True), "o", color="#2ca02c", markersize=3, label="agreement (shadow)")
        for h in history:
            if h["what"] in ("rolled_back", "promoted"):
                color = "#d62728" if h["what"] == "rolled_back" else "#2ca02c"
                axes.axvline(seconds(h["at"]), color=color, linestyle="--")
                axes.annotate(h["what"].replace("_", " "), (seconds(h["at"]), 1.02), color=color, fontsize="small")
        axes.set_ylim(-0.05, 1.15)
        axes.set_xlabel("seconds since the rollout started")
        axes.set_title(
            f"{rollout.kind} {rollout.name}:{rollout.version} ({rollout.state.replace('_', ' ')})", fontsize="medium"
        )
        axes.legend(loc="center right", fontsize="small")
    figure.tight_layout()
    return svg_of(figure)
