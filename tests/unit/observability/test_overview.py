"""`aios status` / `aios top`: snapshots from Prometheus answers, and how they are shown."""

from __future__ import annotations

import pytest
from rich.console import Console

from aios.cli.top import render
from aios.observability.errors import PrometheusUnavailable
from aios.observability.overview import QUERIES, Prometheus, build_snapshot


def series(value: str, **labels: str) -> dict:
    return {"metric": labels, "value": [1700000000.0, value]}


def answers(**given: list[dict]) -> dict[str, list[dict]]:
    return {name: given.get(name, []) for name in QUERIES}


def test_a_snapshot_has_one_row_per_service_and_drops_what_cannot_be_computed() -> None:
    snapshot = build_snapshot(
        answers(
            rate_in=[series("12.5", service="classify"), series("3", service="audit")],
            rate_out=[series("12.5", service="classify")],
            p99_end_to_end=[series("0.42", service="classify"), series("NaN", service="audit")],
            dead_letters=[series("2", service="classify")],
            http_rate=[series("7", service="ingest")],
            group_lag=[series("120", group="classify"), series("0", group="audit")],
            review_open=[series("4", tenant="acme")],
            review_overdue=[series("1", tenant="acme")],
            alerts=[series("1", alertname="AiosPredictionDrift", severity="warning")],
        )
    )
    rows = {s.service: s for s in snapshot.stages}
    assert list(rows) == ["audit", "classify", "ingest"]
    assert rows["classify"].rate_in == 12.5 and rows["classify"].p99_end_to_end_s == 0.42
    assert rows["audit"].p99_end_to_end_s is None  # no traffic in the window: NaN, shown as "-"
    assert rows["ingest"].http_rate == 7 and rows["ingest"].rate_in is None
    assert snapshot.group_lag == {"classify": 120, "audit": 0}
    assert snapshot.review_overdue == {"acme": 1}
    assert snapshot.to_json()["alerts"][0]["alertname"] == "AiosPredictionDrift"


def test_the_view_shows_rates_latency_dead_letters_lag_and_the_review_queue() -> None:
    snapshot = build_snapshot(
        answers(
            rate_in=[series("1234", service="classify")],
            p99_end_to_end=[series("2.5", service="classify")],
            p99_handler=[series("0.018", service="classify")],
            dead_letters=[series("3", service="classify")],
            group_lag=[series("42", group="classify")],
            review_open=[series("4", tenant="acme")],
            review_oldest=[series("5400", tenant="acme")],
            alerts=[series("1", alertname="AiosConsumerLagGrowing")],
        )
    )
    console = Console(record=True, width=160)
    console.print(render(snapshot, "http://prometheus:9090"))
    text = console.export_text()
    for expected in ("classify", "1,234", "2.5 s", "18 ms", "42", "acme", "90 min", "firing: AiosConsumerLagGrowing"):
        assert expected in text, text


def test_an_unreachable_prometheus_is_a_clear_error() -> None:
    with pytest.raises(PrometheusUnavailable, match=r"127\.0\.0\.1:1 did not answer"):
        Prometheus("http://127.0.0.1:1", timeout_s=2).snapshot()
