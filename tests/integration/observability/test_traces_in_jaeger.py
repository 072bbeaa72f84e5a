"""One trace per event, read back from the stack's Jaeger through its query API, as an operator would.

Every service of a pipeline on private topics exports its spans with no tracing setting at all (the
default is the stack's Jaeger). Events of every kind go in through ingest: answered automatically,
reviewed and approved or rejected on the review pages, rejected by policy, and dead-lettered (too
large for classify). Each event's trace, found by the traceparent ingest gave its record, must hold
the services it crossed, each span the child of the span that produced its input, the reviewer's
verdict linked to the request it answers, and no span whose parent is missing.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from aios.inference.training import TrainResult
from aios.observability.traces import JaegerTraces, TraceNotFound, TraceSpan
from aios.settings import ConnectionSettings
from aios.stack.stack import LocalStack
from tests.support.cli import aios
from tests.support.pipeline import Pipeline, private_pipeline, wait_for
from tests.support.scraping import private_prometheus
from tests.support.tiny_models import ClincSubset
from tests.support.traffic import Reviewer

pytestmark = pytest.mark.slow

DESK = """
tenant: {tenant}
rules:
  - name: asked-for-review
    when:
      text: {matches: '\\[review\\]'}
    review:
      reason: the sender asked for a person
      sla: 1h
  - name: not-for-this-desk
    when:
      text: {matches: '\\[refuse\\]'}
    reject:
      reason: the sender asked for a refusal
default:
  auto:
    reason: answered
    actions:
      - type: log.record
        params: {message: "answered {label}"}
      - type: webhook.post
        params: {customer: "{attributes.customer}", body: "{draft}"}
"""
"""Review on request, refusal on request, the rest answered by webhook and logged: each kind by its text."""

FLOW = ["aios-ingest", "aios-classify", "aios-retrieve-generate", "aios-decide"]
CLASSIFY_LIMIT = 8192
"""Bytes above which classify dead-letters a record unread (AIOS_LOOP_MAX_RECORD_BYTES)."""


@dataclass
class Traced:
    pipeline: Pipeline
    jaeger: JaegerTraces
    prometheus_url: str
    events: dict[str, str]
    """Kind → event id: auto, approved, rejected (by the reviewer), refused (by policy), dead."""

    def trace_id(self, kind: str) -> str:
        """The trace ingest started for the event: its received record's traceparent."""
        event_id = self.events[kind]
        (record,) = [r for r in self.pipeline.tail.values("received") if r["event_id"] == event_id]
        return str(record["trace"]["traceparent"]).split("-")[1]

    def spans(self, kind: str, services: set[str], audited: int) -> list[TraceSpan]:
        """The event's trace once every service of `services`, `audited` audit spans and every parent are in."""
        trace_id, found = self.trace_id(kind), []

        def complete() -> bool:
            nonlocal found
            try:
                found = self.jaeger.spans(trace_id)
            except TraceNotFound:
                return False
            seen = [s.service for s in found]
            return services <= set(seen) and seen.count("aios-audit") >= audited and not orphans(found)

        wait_for(complete, 120, f"the {kind} event's trace {trace_id} in Jaeger", lambda: describe(found))
        return found


def orphans(spans: list[TraceSpan]) -> list[TraceSpan]:
    ids = {s.span_id for s in spans}
    return [s for s in spans if s.parent_span_id is not None and s.parent_span_id not in ids]


def describe(spans: list[TraceSpan]) -> str:
    return "\n".join(f"{s.service} {s.name} {s.span_id} parent={s.parent_span_id}" for s in spans) or "(no spans)"


@pytest.fixture(scope="module")
def traced(
    local_stack: LocalStack,
    connection: ConnectionSettings,
    tiny_versions: list[TrainResult],
    clinc_small: ClincSubset,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Traced]:
    root = tmp_path_factory.mktemp("traced")
    running = private_pipeline(connection, root, tiny_versions[0], partitions=1, webhook_secret="traces-secret")
    with running as (pipeline, target):
        desk = pipeline.add_tenant(f"traced-{pipeline.run}", DESK, target)
        pipeline.envs["classify"]["AIOS_LOOP_MAX_RECORD_BYTES"] = str(CLASSIFY_LIMIT)
        for env in pipeline.envs.values():
            assert "AIOS_TRACING_OTLP_ENDPOINT" not in env  # the default: the stack's Jaeger
            env["OTEL_BSP_SCHEDULE_DELAY"] = "200"
        reviewer = Reviewer(pipeline, desk, lambda r: "APPROVE" if "approve" in r["text"] else "REJECT")
        with private_prometheus(pipeline, root, lag_exporter=False) as scraping:
            try:
                pipeline.start()
                reviewer.start()
                # Texts the model was trained on: in scope, so answered unless the text asks otherwise.
                first, second, third, fourth = (e.text for e in clinc_small.train[:4])
                texts = {
                    "auto": first,
                    "approved": f"{second} [review] approve",
                    "rejected": f"{third} [review] reject",
                    "refused": f"{fourth} [refuse]",
                    "dead": "my card was charged twice " * (CLASSIFY_LIMIT // 20),
                }
                events = {kind: pipeline.submit(desk, text, {"customer": "C-1"}) for kind, text in texts.items()}
                decided = {events[k] for k in ("auto", "approved", "rejected", "refused")}
                wait_for(
                    lambda: decided <= {r["event_id"] for r in pipeline.tail.values("decisions")},
                    240,
                    "every decision",
                    pipeline.logs,
                )
                wait_for(lambda: bool(pipeline.tail.seen("deadletter")), 120, "the dead letter", pipeline.logs)
                jaeger = JaegerTraces(local_stack.endpoints()["jaeger_url"])
                yield Traced(pipeline, jaeger, scraping.prometheus_url, events)
            finally:
                reviewer.stop()


def assert_chain(spans: list[TraceSpan], chain: list[str]) -> dict[str, TraceSpan]:
    """The first span of each service of `chain` after the first is the child of a span of the service before.

    (decide's second span, after a review, is the child of the verdict: the review tests check it.)
    """
    by_id = {s.span_id: s for s in spans}
    for parent, child in itertools.pairwise(chain):
        children = [s for s in spans if s.service == child and s.name == f"{child.removeprefix('aios-')} process"]
        assert children, f"no {child} span:\n{describe(spans)}"
        first = min(children, key=lambda s: s.start_ns)
        assert by_id[str(first.parent_span_id)].service == parent, describe(spans)
    return by_id


def assert_one_root(spans: list[TraceSpan]) -> None:
    """The ingest span is the only root, and every other span's parent is in the trace."""
    roots = [s for s in spans if s.parent_span_id is None]
    assert [(s.service, s.name) for s in roots] == [("aios-ingest", "ingest accept")], describe(spans)
    assert not orphans(spans), describe(spans)


def test_an_automated_event_is_one_trace_from_ingest_to_act_and_audit(traced: Traced) -> None:
    spans = traced.spans("auto", {*FLOW, "aios-act", "aios-audit"}, audited=5)
    assert_one_root(spans)
    by_id = assert_chain(spans, [*FLOW, "aios-act"])
    audit = [s for s in spans if s.service == "aios-audit"]
    assert {by_id[str(s.parent_span_id)].service for s in audit} == {*FLOW, "aios-act"}
    assert {s.trace_id for s in spans} == {traced.trace_id("auto")}


@pytest.mark.parametrize(("kind", "acted"), [("approved", True), ("rejected", False)])
def test_a_reviewed_event_continues_its_trace_from_the_verdict_given_on_the_review_page(
    traced: Traced, kind: str, acted: bool
) -> None:
    services = {*FLOW, "aios-review", "aios-act", "aios-audit"}
    spans = traced.spans(kind, services, audited=6 + acted)
    assert_one_root(spans)
    by_id = assert_chain(spans, FLOW)
    (verdict,) = [s for s in spans if s.name == "review verdict"]
    request = by_id[str(verdict.parent_span_id)]
    assert request.service == "aios-decide"
    (link,) = verdict.links
    assert (link.trace_id, link.span_id, link.attributes["aios.link"]) == (verdict.trace_id, request.span_id, "review")
    # decide's final decision is the child of the verdict, act's span the child of that; only an
    # approval's actions ran (the executed records audit stored under act's span).
    (final,) = [s for s in spans if s.service == "aios-decide" and s.parent_span_id == verdict.span_id]
    (act,) = [s for s in spans if s.service == "aios-act"]
    assert act.parent_span_id == final.span_id
    executed = [s for s in spans if s.service == "aios-audit" and s.parent_span_id == act.span_id]
    assert bool(executed) is acted


def test_an_event_rejected_by_policy_is_decided_and_nothing_runs(traced: Traced) -> None:
    spans = traced.spans("refused", {*FLOW, "aios-act", "aios-audit"}, audited=4)
    assert_one_root(spans)
    by_id = assert_chain(spans, [*FLOW, "aios-act"])
    assert not [s for s in spans if s.service == "aios-review"]
    assert not [s for s in spans if s.service == "aios-audit" and by_id[str(s.parent_span_id)].service == "aios-act"]


def test_a_dead_lettered_event_s_trace_says_where_and_why(traced: Traced) -> None:
    spans = traced.spans("dead", {"aios-ingest", "aios-classify", "aios-audit"}, audited=2)
    assert_one_root(spans)
    (refused,) = [s for s in spans if s.service == "aios-classify"]
    assert refused.error is not None and "too large" in refused.error
    assert {s.service for s in spans} == {"aios-ingest", "aios-classify", "aios-audit"}
    # audit stored the dead letter under the span that refused the record.
    assert any(s.parent_span_id == refused.span_id for s in spans if s.service == "aios-audit")


def test_aios_trace_prints_the_timeline_and_audit_show_the_trace_url(traced: Traced) -> None:
    traced.spans("approved", {*FLOW, "aios-review", "aios-act", "aios-audit"}, audited=7)
    event_id, trace_id = traced.events["approved"], traced.trace_id("approved")
    env = {"AIOS_POSTGRES_DSN": traced.pipeline.dsn, "AIOS_JAEGER_URL": traced.jaeger.url}

    printed = aios("trace", event_id, "--json", env=env)
    assert printed.returncode == 0, printed.stderr
    rows = json.loads(printed.stdout)[trace_id]
    assert [r["start_offset_ms"] for r in rows] == sorted(r["start_offset_ms"] for r in rows)
    assert rows[0]["service"] == "aios-ingest" and rows[0]["depth"] == 0
    assert {"aios-classify", "aios-review", "aios-act"} <= {r["service"] for r in rows}
    assert all(r["duration_ms"] >= 0 for r in rows)
    table = aios("trace", event_id, env=env)
    assert table.returncode == 0, table.stderr
    assert "review verdict" in table.stdout and f"{traced.jaeger.url}/trace/{trace_id}" in table.stdout

    shown = aios("audit", "show", event_id, "--json", env=env)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["trace_urls"] == [traced.jaeger.trace_url(trace_id)]


def test_a_trace_jaeger_does_not_hold_is_a_clear_error(traced: Traced) -> None:
    env = {"AIOS_POSTGRES_DSN": traced.pipeline.dsn, "AIOS_JAEGER_URL": "http://127.0.0.1:9"}
    result = aios("trace", traced.events["auto"], env=env)
    assert result.returncode == 1
    assert "Jaeger does not answer at http://127.0.0.1:9" in result.stderr


def test_latency_observations_carry_the_trace_id_of_their_event_and_prometheus_keeps_them(traced: Traced) -> None:
    """Exemplars: each point of classify's end-to-end latency leads to the trace of one of the events.

    (A bucket shows the exemplar of its latest observation, so which events' ids are kept varies.)
    """
    traces = {traced.trace_id(kind) for kind in traced.events if kind != "dead"}
    query = 'aios_end_to_end_seconds_bucket{service="classify"}'

    def exemplar_ids() -> set[str]:
        answer = httpx.get(
            f"{traced.prometheus_url}/api/v1/query_exemplars",
            params={"query": query, "start": time.time() - 3600, "end": time.time() + 60},
            timeout=10,
        ).json()
        assert answer["status"] == "success", answer
        return {e["labels"]["trace_id"] for series in answer["data"] for e in series["exemplars"]}

    wait_for(lambda: bool(exemplar_ids()), 90, "classify's latency exemplars in Prometheus")
    found = exemplar_ids()
    assert found <= traces, (found, traces)
    for trace_id in found:
        assert any(s.service == "aios-classify" for s in traced.jaeger.spans(trace_id))
