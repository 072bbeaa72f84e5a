"""A rollout plan (`plans/<model>.yaml`): the steps a new version walks and the criteria every step is judged by.

A step names the traffic share the candidate decides (0 with `shadow: true`: it only runs beside
production) and how long, and on how many of its events, it must hold before the next step. The last
step has share 1: reaching it makes the candidate production. Durations are written 90s, 10m, 1h, so a
test can walk a whole plan in seconds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from aios.policy.model import parse_duration
from aios.rollout.errors import RolloutError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Step(_Strict):
    name: str = Field(min_length=1)
    share: float = Field(ge=0, le=1, description="Share of traffic the candidate decides (canary alias).")
    shadow: bool = Field(default=False, description="Run beside production on every event, deciding nothing.")
    min_duration_s: float = Field(
        default=0.0, alias="min_duration", description="Time the step must hold; 90s, 10m, 1h (0: none)."
    )
    min_events: int = Field(default=0, ge=0, description="Candidate events the step must judge before moving on.")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("min_duration_s", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> float:
        if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
            return float(value)
        return 0.0 if str(value).strip() in {"0", "0s", "0m", "0h"} else float(parse_duration(value))

    @model_validator(mode="after")
    def _shadow_or_share(self) -> Step:
        if self.shadow == (self.share > 0):
            raise ValueError("a step is either `shadow: true` with share 0, or a share above 0")
        return self


class Criteria(_Strict):
    """Bounds every step is judged by; a bound left out is not judged, a measurement without data neither."""

    min_sample: int = Field(default=20, ge=1, description="Candidate events a step sees before it is judged at all.")
    min_agreement: float | None = Field(default=None, ge=0, le=1, description="Same label as production (shadow).")
    max_overturn_rate: float | None = Field(default=None, ge=0, le=1, description="Reviewers' relabels per review.")
    max_low_confidence_share: float | None = Field(default=None, ge=0, le=1)
    low_confidence_below: float = Field(default=0.5, ge=0, le=1, description="What counts as low confidence.")
    max_oos_share: float | None = Field(default=None, ge=0, le=1, description="Share of out-of-scope predictions.")
    max_latency_p99_s: float | None = Field(default=None, gt=0, description="Inference latency p99 (Prometheus).")
    max_error_rate: float | None = Field(default=None, ge=0, le=1, description="classify dead letters per record.")
    max_drift_psi: float | None = Field(default=None, gt=0, description="Drift index of the candidate (Prometheus).")


class Plan(_Strict):
    steps: list[Step] = Field(min_length=1)
    criteria: Criteria = Field(default_factory=Criteria)
    poll_interval_s: float = Field(default=5.0, alias="poll_interval", gt=0, description="How often a step is judged.")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("poll_interval_s", mode="before")
    @classmethod
    def _poll(cls, value: Any) -> float:
        return float(value) if isinstance(value, int | float) else float(parse_duration(value))

    @model_validator(mode="after")
    def _ends_in_production(self) -> Plan:
        if self.steps[-1].share != 1.0:
            raise ValueError("the last step has share 1: it makes the candidate production")
        return self


def load_plan(path: Path) -> Plan:
    try:
        return parse_plan(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RolloutError(f"cannot read {path}: {exc}") from exc


def parse_plan(text: str) -> Plan:
    try:
        return Plan.model_validate(yaml.safe_load(text))
    except (yaml.YAMLError, ValidationError) as exc:
        raise RolloutError(f"not a valid rollout plan: {exc}") from None
