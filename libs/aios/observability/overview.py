"""The state of the pipeline at a glance, read from Prometheus: what `aios top` and `aios status` show.

One snapshot is a handful of instant queries over the same metrics the dashboards use, so the
terminal and Grafana never disagree.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from aios.observability.errors import PrometheusUnavailable

WINDOW = "1m"
"""Rates over the last minute: recent enough for a live view, smooth enough to read."""
LATENCY_WINDOW = "5m"


def _p99(histogram: str) -> str:
    return f"histogram_quantile(0.99, sum by (service, le) (rate({histogram}_bucket[{LATENCY_WINDOW}])))"


QUERIES = {
    "rate_in": f"sum by (service) (rate(aios_records_in_total[{WINDOW}]))",
    "rate_out": f"sum by (service) (rate(aios_records_out_total[{WINDOW}]))",
    "p99_end_to_end": _p99("aios_end_to_end_seconds"),
    "p99_handler": _p99("aios_handler_seconds"),
    "dead_letters": f"sum by (service) (increase(aios_dead_letters_total[{LATENCY_WINDOW}]))",
    "consumer_lag": "sum by (service) (aios_consumer_lag)",
    "http_rate": f"sum by (service) (rate(aios_http_requests_total[{WINDOW}]))",
    "group_lag": "sum by (group) (aios_kafka_consumer_group_lag)",
    "review_open": "sum by (tenant) (aios_review_open_items)",
    "review_overdue": "sum by (tenant) (aios_review_overdue_items)",
    "review_oldest": "max by (tenant) (aios_review_oldest_wait_seconds)",
    "alerts": 'ALERTS{alertstate="firing"}',
}


@dataclass(frozen=True)
class Stage:
    """One service's row."""

    service: str
    rate_in: float | None = None
    rate_out: float | None = None
    http_rate: float | None = None
    p99_end_to_end_s: float | None = None
    p99_handler_s: float | None = None
    dead_letters_5m: float | None = None
    consumer_lag: float | None = None


@dataclass(frozen=True)
class Snapshot:
    stages: list[Stage]
    group_lag: dict[str, float]
    review_open: dict[str, float]
    review_overdue: dict[str, float]
    review_oldest_s: dict[str, float] = field(default_factory=dict)
    alerts: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "stages": [stage.__dict__ for stage in self.stages],
            "consumer_group_lag": self.group_lag,
            "review": {"open": self.review_open, "overdue": self.review_overdue, "oldest_s": self.review_oldest_s},
            "alerts": self.alerts,
        }


class Prometheus:
    def __init__(self, url: str, timeout_s: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s

    def query(self, expr: str) -> list[dict[str, Any]]:
        """The result vector of an instant query."""
        try:
            response = httpx.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=self.timeout_s)
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise PrometheusUnavailable(f"Prometheus at {self.url} did not answer: {exc}") from exc
        if body.get("status") != "success":
            raise PrometheusUnavailable(f"Prometheus at {self.url} refused {expr!r}: {body.get('error')}")
        return list(body["data"]["result"])

    def snapshot(self) -> Snapshot:
        return build_snapshot({name: self.query(expr) for name, expr in QUERIES.items()})


def _by(results: list[dict[str, Any]], label: str) -> dict[str, float]:
    found = {}
    for series in results:
        value = float(series["value"][1])
        if math.isfinite(value):
            found[series["metric"].get(label, "")] = value
    return found


def build_snapshot(results: Mapping[str, list[dict[str, Any]]]) -> Snapshot:
    """A snapshot from the answers to QUERIES (pure: tests feed it Prometheus-shaped answers)."""
    columns = {
        "rate_in": _by(results["rate_in"], "service"),
        "rate_out": _by(results["rate_out"], "service"),
        "http_rate": _by(results["http_rate"], "service"),
        "p99_end_to_end_s": _by(results["p99_end_to_end"], "service"),
        "p99_handler_s": _by(results["p99_handler"], "service"),
        "dead_letters_5m": _by(results["dead_letters"], "service"),
        "consumer_lag": _by(results["consumer_lag"], "service"),
    }
    services = sorted({service for column in columns.values() for service in column} - {""})
    stages = [Stage(service, **{name: column.get(service) for name, column in columns.items()}) for service in services]
    alerts = [
        {key: series["metric"].get(key, "") for key in ("alertname", "severity", "service", "group", "tenant")}
        for series in results["alerts"]
    ]
    return Snapshot(
        stages=stages,
        group_lag=_by(results["group_lag"], "group"),
        review_open=_by(results["review_open"], "tenant"),
        review_overdue=_by(results["review_overdue"], "tenant"),
        review_oldest_s=_by(results["review_oldest"], "tenant"),
        alerts=alerts,
    )
