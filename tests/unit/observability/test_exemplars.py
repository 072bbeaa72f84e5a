"""Latency observations carry the trace id of the record they time (OpenMetrics exemplars)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from prometheus_client import REGISTRY
from prometheus_client.openmetrics.exposition import generate_latest as openmetrics_latest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from aios.observability.http import add_metrics_route
from aios.observability.metrics import observe_record_times

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


def exemplars(service: str) -> list[str]:
    """OpenMetrics lines of the service's latency buckets that carry an exemplar."""
    return [
        line
        for line in openmetrics_latest(REGISTRY).decode().splitlines()
        if f'service="{service}"' in line and "_bucket" in line and " # {" in line
    ]


def test_an_observation_with_a_trace_context_carries_its_trace_id() -> None:
    service = f"unit-{uuid.uuid4().hex[:6]}"
    now = datetime.now(UTC).timestamp()
    observe_record_times(service, "t", datetime.now(UTC), int(now * 1000) - 50, now, {"traceparent": TRACEPARENT})
    lines = exemplars(service)
    assert {line.split("{", 1)[0] for line in lines} == {
        "aios_end_to_end_seconds_bucket",
        "aios_consume_delay_seconds_bucket",
    }
    assert all(f'# {{trace_id="{TRACE_ID}"}}' in line for line in lines)


def test_without_a_valid_trace_context_there_is_no_exemplar() -> None:
    service = f"unit-{uuid.uuid4().hex[:6]}"
    now = datetime.now(UTC).timestamp()
    for trace in (None, {}, {"traceparent": "garbage"}, {"traceparent": f"00-{'0' * 32}-00f067aa0ba902b7-01"}):
        observe_record_times(service, "t", datetime.now(UTC), int(now * 1000), now, trace)
    assert exemplars(service) == []


def test_the_http_metrics_route_answers_openmetrics_to_whoever_asks_for_it() -> None:
    app = Starlette()
    add_metrics_route(app)
    client = TestClient(app, client=("127.0.0.1", 50000))  # a client address /metrics answers
    observe_record_times(
        "unit-http", "t", datetime.now(UTC), None, datetime.now(UTC).timestamp(), {"traceparent": TRACEPARENT}
    )
    prometheus = client.get("/metrics", headers={"Accept": "application/openmetrics-text;version=1.0.0,*/*;q=0.1"})
    assert prometheus.headers["content-type"].startswith("application/openmetrics-text")
    assert f'trace_id="{TRACE_ID}"' in prometheus.text and prometheus.text.endswith("# EOF\n")
    plain = client.get("/metrics")
    assert plain.headers["content-type"].startswith("text/plain") and "trace_id" not in plain.text
