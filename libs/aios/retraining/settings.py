"""Retraining settings, from `AIOS_RETRAIN_*` environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

HEADLINE = ("accuracy", "macro_f1", "in_scope_accuracy", "oos_recall")
"""The figures a retrained version must not lose on: `aios.inference.training.evaluate`'s."""


class RetrainSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AIOS_RETRAIN_", extra="ignore", frozen=True)

    margin: float = Field(
        default=0.02,
        ge=0,
        le=1,
        description="How much worse than production on the holdout a retrained version may be on any headline "
        "figure (absolute, e.g. 0.02 = two points of accuracy) before it is refused.",
    )
