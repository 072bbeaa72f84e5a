"""Judging one step: measurements against the plan's bounds (pure)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from aios.rollout.plan import Criteria


@dataclass(frozen=True)
class Measurements:
    """What a step saw of the candidate; None where there was nothing to measure."""

    events: int = 0
    agreement: float | None = None
    overturn_rate: float | None = None
    low_confidence_share: float | None = None
    oos_share: float | None = None
    latency_p99_s: float | None = None
    error_rate: float | None = None
    drift_psi: float | None = None

    def as_json(self) -> dict[str, Any]:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(self).items()}


BOUNDS: tuple[tuple[str, str, str], ...] = (
    ("agreement", "min_agreement", "min"),
    ("overturn_rate", "max_overturn_rate", "max"),
    ("low_confidence_share", "max_low_confidence_share", "max"),
    ("oos_share", "max_oos_share", "max"),
    ("latency_p99_s", "max_latency_p99_s", "max"),
    ("error_rate", "max_error_rate", "max"),
    ("drift_psi", "max_drift_psi", "max"),
)
"""(measurement, criterion, which side of the bound fails)."""


def judge(criteria: Criteria, measured: Measurements) -> list[str]:
    """The reasons the step fails, one per broken bound; empty when it holds (or has too few events to say)."""
    if measured.events < criteria.min_sample:
        return []
    failures = []
    for name, bound_name, side in BOUNDS:
        value, bound = getattr(measured, name), getattr(criteria, bound_name)
        if value is None or bound is None:
            continue
        if (side == "min" and value < bound) or (side == "max" and value > bound):
            word = "below" if side == "min" else "above"
            failures.append(f"{name.replace('_', ' ')} {value:.4g} {word} {bound:g}")
    return failures
