"""Operations proven on the running pipeline: every dashboard panel's PromQL returns data from a real
Prometheus scraping the services, one trace per event across every hop, drift measured and alerted,
HTTP requests of every worker counted, lag read from the broker.
"""

from __future__ import annotations

import itertools
import math
import time
from typing import Any

import httpx
import pytest

from tests.integration.observability.conftest import Pipeline
from tests.support.dashboards import PanelQuery, panel_queries
from tests.support.otlp import ReceivedSpan

pytestmark = pytest.mark.slow

CHAIN = ["aios-ingest", "aios-classify", "aios-retrieve-generate", "aios-decide", "aios-act"]


def problem(answer: dict[str, Any]) -> str | None:
    """Why a query's answer would leave its panel empty, or None when it has a real value."""
    if answer.get("status") != "success":
        return f"error: {answer.get('errorType')}: {answer.get('error')}"
    series = answer["data"]["result"]
    if not series:
        return "no series"
    if not any(math.isfinite(float(s["value"][1])) for s in series):
        return f"only NaN/Inf values: {series}"
    return None


def prove(pipeline: Pipeline, queries: list[PanelQuery], timeout_s: float = 90) -> dict[PanelQuery, str]:
    """Query until every panel answers with data or time runs out; the panels that never did, with why."""
    failing: dict[PanelQuery, str] = {q: "not asked" for q in queries}
    deadline = time.monotonic() + timeout_s
    while failing and time.monotonic() < deadline:
        for query in list(failing):
            reason = problem(pipeline.query(query.resolved()))
            if reason is None:
                del failing[query]
            else:
                failing[query] = reason
        if failing:
            time.sleep(3)
    return failing


def test_every_dashboard_panel_returns_data_from_the_running_services(pipeline: Pipeline) -> None:
    queries = [q for q in panel_queries() if not q.needs_review_service or pipeline.review]
    assert len({(q.dashboard, q.panel) for q in queries}) >= 30
    failing = prove(pipeline, queries)
    report = "\n".join(f"{q.dashboard} / {q.panel}: {q.resolved()}\n    → {why}" for q, why in failing.items())
    assert not failing, f"{len(failing)} of {len(queries)} panel queries return nothing:\n{report}"


def test_review_panels_return_data(pipeline: Pipeline) -> None:
    if not pipeline.review:
        pytest.skip("the pipeline runs no human-review service yet")
    queries = [q for q in panel_queries() if q.needs_review_service]
    failing = prove(pipeline, queries)
    assert not failing, "\n".join(f"{q.dashboard} / {q.panel}: {why}" for q, why in failing.items())


def trace_of(pipeline: Pipeline, event_id: str) -> str:
    """The trace id the event's action result carries (written by act)."""
    found = pipeline.records("executed", lambda found: any(r["event_id"] == event_id for r in found), 30)
    traceparent = next(r["trace"]["traceparent"] for r in found if r["event_id"] == event_id)
    return str(traceparent).split("-")[1]


def wait_for_spans(pipeline: Pipeline, trace_id: str, timeout_s: float = 30) -> list[ReceivedSpan]:
    """The trace once every service of the chain and audit's five records of it have reported."""
    deadline = time.monotonic() + timeout_s
    while True:
        spans = pipeline.collector.trace(trace_id)
        services = [s.service for s in spans]
        if set(CHAIN) <= set(services) and services.count("aios-audit") >= 5:
            return spans
        assert time.monotonic() < deadline, f"spans of {sorted(services)} only"
        time.sleep(0.5)


def test_one_trace_covers_the_event_from_ingest_to_audit(pipeline: Pipeline) -> None:
    decided = pipeline.ids("auto")
    decisions = pipeline.records("decisions", lambda found: decided <= {d["event_id"] for d in found})
    event_id = next(d["event_id"] for d in decisions if d["outcome"] == "AUTO" and d["event_id"] in decided)
    trace_id = trace_of(pipeline, event_id)
    spans = wait_for_spans(pipeline, trace_id)
    by_id = {s.span_id: s for s in spans}

    # Every span the services made for this event is in this one trace.
    tagged = [s for s in pipeline.collector.spans if s.attributes.get("aios.event_id") == event_id]
    assert tagged and {s.trace_id for s in tagged} == {trace_id}

    # ingest → classify → retrieve-generate → decide → act: each hop the child of the one before.
    (root,) = [s for s in spans if s.service == "aios-ingest"]
    assert root.parent_span_id is None
    for parent_service, child_service in itertools.pairwise(CHAIN):
        children = [s for s in spans if s.service == child_service]
        assert children, child_service
        for child in children:
            assert by_id[str(child.parent_span_id)].service == parent_service, (
                child,
                by_id.get(str(child.parent_span_id)),
            )

    # audit records each topic the event crossed, each under the span that produced the record.
    audit = [s for s in spans if s.service == "aios-audit"]
    assert len(audit) >= 5  # received, classified, enriched, decisions, actions executed
    assert {by_id[str(s.parent_span_id)].service for s in audit} == set(CHAIN)
    assert {s.attributes["messaging.destination.name"] for s in audit} >= {
        pipeline.topics[name] for name in ("received", "classified", "enriched", "decisions", "executed")
    }


def test_drift_of_a_skewed_stream_is_measured_and_alerted(pipeline: Pipeline) -> None:
    """Most events came from two of the eight intents: far from the versions' validation predictions."""
    answer = pipeline.query('max by (model, version) (aios_model_drift_psi{signal="labels"})')
    psi = {s["metric"]["version"]: float(s["value"][1]) for s in answer["data"]["result"]}
    assert set(psi) == {"1", "2"}  # production and canary, each against its own reference
    drifted = {version for version, value in psi.items() if value > 0.25}
    assert drifted, psi
    deadline = time.monotonic() + 60
    while True:
        alerts = httpx.get(f"{pipeline.prometheus_url}/api/v1/alerts", timeout=10).json()["data"]["alerts"]
        drift = [a for a in alerts if a["labels"]["alertname"] == "AiosPredictionDrift"]
        # The rule holds (pending: it fires after 15 minutes of this, as the promtool tests show).
        if drifted <= {a["labels"]["version"] for a in drift if a["state"] in ("pending", "firing")}:
            break
        assert time.monotonic() < deadline, alerts
        time.sleep(2)


def test_ingest_counts_the_requests_of_every_worker(pipeline: Pipeline) -> None:
    """Two uvicorn workers; whichever answers the scrape, /metrics counts both."""
    url = f"{pipeline.ingest_url}/metrics"
    for _ in range(6):
        samples = [
            line
            for line in httpx.get(url, timeout=10).text.splitlines()
            if line.startswith("aios_http_requests_total{") and 'route="/v1/events"' in line
        ]
        assert sum(float(line.rsplit(" ", 1)[1]) for line in samples) == pipeline.requests, samples


def test_lag_comes_from_the_broker_per_group_and_partition(pipeline: Pipeline) -> None:
    expr = f'aios_kafka_consumer_group_lag{{group="obs-{pipeline.run}-classify"}}'
    deadline = time.monotonic() + 60
    while True:
        series = pipeline.query(expr)["data"]["result"]
        if {s["metric"]["partition"] for s in series} == {"0", "1"} and all(s["value"][1] == "0" for s in series):
            break
        assert time.monotonic() < deadline, series
        time.sleep(2)
    assert {s["metric"]["topic"] for s in series} == {pipeline.topics["received"]}


def test_each_stage_times_each_event_from_occurrence(pipeline: Pipeline) -> None:
    sent = len(pipeline.sent)
    answer = pipeline.query("sum by (service) (aios_end_to_end_seconds_count)")
    counts = {s["metric"]["service"]: float(s["value"][1]) for s in answer["data"]["result"]}
    assert counts["classify"] == sent  # the poison record never decoded: no time to measure
    assert counts["retrieve-generate"] == sent
    assert counts["decide"] >= sent
    assert counts["audit"] >= 4 * sent
