"""Measuring a candidate during one step: from the topics (what it predicted, what reviewers said) and
from Prometheus (latency, errors, drift).

On the topics, the candidate's predictions are the `shadow` field of `aios.events.classified` in a
shadow step (where production's label beside it gives the agreement) and the records it decided
(alias `canary`) in a traffic step. A reviewer's relabel of an event the candidate decided is an
overturn. Prometheus figures are None when it has no series for the candidate (nothing scrapes the
worker, or too few events yet), and such a criterion is then not judged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from confluent_kafka.error import SerializationError

from aios.kafka.serde import Codecs
from aios.kafka.timewindow import TimeWindow
from aios.policy.loading import LoadedPolicy
from aios.rollout.criteria import Measurements
from aios.rollout.plan import Criteria
from aios.whatif.compare import compare
from aios.whatif.recorded import read_recorded
from aios.whatif.replay import Candidate as PolicyCandidate
from aios.whatif.replay import replay
from aios.whatif.settings import ReplaySettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelCandidate:
    name: str
    version: int


@dataclass(frozen=True)
class Sources:
    bootstrap: str
    codecs: Codecs
    classified_topic: str
    completed_topic: str
    prometheus_url: str | None


def measure(
    sources: Sources, candidate: ModelCandidate, alias: str, criteria: Criteria, since_ms: int, window_s: float
) -> Measurements:
    """The candidate's figures under `alias` since `since_ms` (the step's start); Prometheus rates over `window_s`."""
    shadow = alias == "shadow"
    predictions = list(_predictions(sources, candidate, alias, since_ms))
    events = len(predictions)
    agreement = (
        sum(1 for p, production in predictions if p["label"] == production) / events if shadow and events else None
    )
    low = sum(1 for p, _ in predictions if p["confidence"] < criteria.low_confidence_below) / events if events else None
    oos = sum(1 for p, _ in predictions if p["oos"]) / events if events else None
    overturn = None if shadow else _overturn_rate(sources, {p["event_id"] for p, _ in predictions}, since_ms)
    prometheus = _Prometheus(sources.prometheus_url)
    labels = f'model="{candidate.name}",version="{candidate.version}"'
    rate_window = f"{max(30, round(window_s))}s"
    return Measurements(
        events=events,
        agreement=agreement,
        overturn_rate=overturn,
        low_confidence_share=low,
        oos_share=oos,
        latency_p99_s=prometheus.value(
            f"histogram_quantile(0.99, sum by (le) (rate(aios_inference_seconds_bucket{{{labels}}}[{rate_window}])))"
        ),
        error_rate=prometheus.value(
            f'sum(rate(aios_dead_letters_total{{service="classify"}}[{rate_window}]))'
            f' / sum(rate(aios_records_in_total{{service="classify"}}[{rate_window}]))'
        ),
        drift_psi=prometheus.value(f"max(aios_model_drift_psi{{{labels}}})"),
    )


def _predictions(
    sources: Sources, candidate: ModelCandidate, alias: str, since_ms: int
) -> Iterator[tuple[dict[str, Any], str]]:
    """(the candidate's prediction with the event id, production's label beside it in shadow steps)."""
    shadow = alias == "shadow"
    for value in _decoded(sources, sources.classified_topic, since_ms):
        ours = value.get("shadow") if shadow else value["classification"]
        if (
            ours is not None
            and ours["model_name"] == candidate.name
            and ours["model_version"] == candidate.version
            and (shadow or ours["model_alias"] == alias)
        ):
            yield {**ours, "event_id": value["event_id"]}, value["classification"]["label"]


def _overturn_rate(sources: Sources, decided: set[str], since_ms: int) -> float | None:
    verdicts = [v["verdict"] for v in _decoded(sources, sources.completed_topic, since_ms) if v["event_id"] in decided]
    return sum(1 for v in verdicts if v == "RELABEL") / len(verdicts) if verdicts else None


def _decoded(sources: Sources, topic: str, since_ms: int) -> Iterator[dict[str, Any]]:
    for record in TimeWindow(sources.bootstrap, topic, since_ms).records():
        try:
            yield sources.codecs.decode(topic, record.value)
        except SerializationError as exc:
            log.warning("%s[%s]@%s: undecodable, skipped: %s", topic, record.partition, record.offset, exc)


class _Prometheus:
    def __init__(self, url: str | None) -> None:
        self.url = url

    def value(self, query: str) -> float | None:
        """The query's single value; None without data (or without a Prometheus to ask)."""
        if not self.url:
            return None
        try:
            answer = httpx.get(f"{self.url}/api/v1/query", params={"query": query}, timeout=10).json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("prometheus at %s did not answer %s: %s", self.url, query, exc)
            return None
        results = answer.get("data", {}).get("result", [])
        if not results:
            return None
        value = float(results[0]["value"][1])
        return None if value != value else value  # NaN: a rate over no events


def measure_policy(
    settings: ReplaySettings, sources: Sources, tenant_id: str, candidate: LoadedPolicy, since_ms: int
) -> Measurements:
    """A candidate policy shadow-evaluated on the tenant's live events since `since_ms`: `agreement` is the share of
    decisions it would make the same (outcome and rule) as the active version did."""
    now_ms = int(time.time() * 1000)
    recorded = read_recorded(settings, sources.bootstrap, sources.codecs, tenant_id, since_ms, now_ms)
    report = compare(replay(recorded, PolicyCandidate(policy=candidate), lambda _event: None))
    decided = report["before"]["events"]
    agreement = 1 - len(report["changed"]) / decided if decided else None
    return Measurements(events=decided, agreement=agreement)
