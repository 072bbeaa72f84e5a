"""The full fault suite (`make chaos`): 5,000 events through a pipeline on three brokers while everything fails once.

The pipeline runs on a private stack (three Kafka brokers, replication 3, min ISR 2; PostgreSQL;
Redis) that the test may break. While 5,000 CLINC150 events stream in through the SDK, in turn:
`kill -9` of each service and its restart, `kill -9` of the broker leading the most partitions
and its return, a PostgreSQL restart, a Redis restart. Then: every accepted event reached a final
state, no receiver performed an action twice, the audit trail holds every record and verifies.
A second test holds one tenant's webhook at seconds per call while another tenant's actions flow.
"""

from __future__ import annotations

import functools
import os
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from aios.db.scratch import scratch_database
from aios.inference.training import TrainResult
from aios.settings import ConnectionSettings
from tests.integration.resilience.conftest import POLICY, model_labels
from tests.support.http_target import HttpTarget
from tests.support.outcomes import check_audit, explain, record_results, settle
from tests.support.pipeline import SERVICES, Pipeline, running_pipeline
from tests.support.private_stack import PrivateStack, private_stack
from tests.support.traffic import Load, Reviewer, approve_large_amounts, clinc_events

pytestmark = [pytest.mark.chaos, pytest.mark.slow, pytest.mark.timeout(2400)]

EVENTS = int(os.environ.get("AIOS_CHAOS_EVENTS", "5000"))
RATE = float(os.environ.get("AIOS_CHAOS_RATE", "12"))
"""Events per second offered: below what the pipeline sustains on two shared cores, so faults, not load, are tested."""


@dataclass
class Stage:
    """One private stack and the pipeline on it, for the module."""

    stack: PrivateStack
    pipeline: Pipeline
    targets: dict[str, HttpTarget] = field(default_factory=dict)


@pytest.fixture(scope="module")
def stage(
    connection: ConnectionSettings, tiny_versions: list[TrainResult], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stage]:
    targets = {name: HttpTarget(secret=f"{name}-secret").start() for name in ("chaos", "steady", "slow")}
    try:
        with (
            private_stack(connection) as stack,
            scratch_database(stack.postgres.dsn, "aios_chaos") as dsn,
        ):
            private = stack.connection.model_copy(update={"postgres_dsn": SecretStr(dsn)})
            root = tmp_path_factory.mktemp("chaos")
            with running_pipeline(private, root, tiny_versions[0], partitions=6, replication=3) as pipeline:
                for name, target in targets.items():
                    pipeline.add_tenant(name, POLICY, target)
                pipeline.start()
                yield Stage(stack, pipeline, targets)
    finally:
        for target in targets.values():
            target.stop()


class Timeline:
    """When each fault happened, relative to the start of the stream, for the report."""

    def __init__(self, load: Load) -> None:
        self.load = load
        self.started = time.monotonic()
        self.entries: list[dict[str, Any]] = []

    def at(self, submitted: int) -> None:
        """Wait until `submitted` events were sent (or refused)."""
        while self.load.done < submitted:
            time.sleep(0.2)

    def fault(self, what: str, action: Callable[[], None]) -> None:
        began = time.monotonic()
        action()
        self.entries.append(
            {
                "fault": what,
                "utc": time.strftime("%H:%M:%S", time.gmtime()),
                "at_s": round(began - self.started, 1),
                "lasted_s": round(time.monotonic() - began, 1),
                "submitted": self.load.done,
            }
        )


def probe_while_redis_is_down(pipeline: Pipeline, seconds: float) -> list[httpx.Response]:
    """Plain requests (no SDK retries) while Redis is down: what a caller is told."""
    tenant = pipeline.tenants["chaos"]
    answers = []
    deadline = time.monotonic() + seconds
    n = 0
    while time.monotonic() < deadline:
        n += 1
        answers.append(
            httpx.post(
                f"{pipeline.url('ingest')}/v1/events",
                headers={"Authorization": f"Bearer {tenant.api_key}", "Idempotency-Key": f"redis-down-{n}"},
                json={"type": "support.ticket", "text": f"sent while redis is down #{n}"},
                timeout=15,
            )
        )
        time.sleep(0.5)
    return answers


def test_5000_events_survive_kill_9_of_every_service_a_broker_and_restarts_of_postgres_and_redis(
    stage: Stage,
) -> None:
    pipeline, stack = stage.pipeline, stage.stack
    specs = clinc_events(EVENTS, "chaos", model_labels(pipeline.model), seed=5)
    reviewer = Reviewer(pipeline, pipeline.tenants["chaos"], approve_large_amounts).start()
    load = Load(pipeline, specs, rate_per_s=RATE, threads=8).start()
    timeline = Timeline(load)
    step = EVENTS // 12
    probes: list[httpx.Response] = []
    try:
        for n, name in enumerate(SERVICES, start=1):
            timeline.at(n * step)
            timeline.fault(f"kill -9 {name}, restart after 3 s", functools.partial(pipeline.restart, name, down_s=3))
        leader = stack.leader_of_most_partitions()
        timeline.at(8 * step)
        timeline.fault(f"kill -9 broker {leader.node_id} (leads most partitions)", lambda: stack.kill_broker(leader))
        time.sleep(20)
        timeline.fault(f"broker {leader.node_id} back", lambda: stack.start_broker(leader))
        timeline.at(9 * step)
        timeline.fault("PostgreSQL fast shutdown, start after 8 s", lambda: stack.restart_postgres(down_s=8))
        timeline.at(10 * step)
        timeline.fault("Redis stopped", stack.stop_redis)
        probes = probe_while_redis_is_down(pipeline, 8)
        timeline.fault("Redis started", stack.start_redis)
        load.join(timeout_s=EVENTS / RATE * 3 + 300)
        result = settle(pipeline, {s.event_id for s in load.accepted}, [reviewer], timeout_s=900)
    finally:
        reviewer.stop()
    audit = check_audit(pipeline)
    probe_texts = {f"sent while redis is down #{n}" for n in range(1, len(probes) + 1)}
    leaked = [v["event_id"] for v in pipeline.tail.values("received") if v["text"] in probe_texts]
    record_results(
        "kills",
        {
            "command": "make chaos",
            "events_offered": len(specs),
            "rate_per_s": RATE,
            "seconds": round(time.monotonic() - timeline.started),
            "faults": timeline.entries,
            "sdk_gave_up": len(load.failed),
            **result.summary(),
            "audit_rows": audit.recorded,
            "audit_missing": audit.missing,
            "audit_verified": audit.verified,
            "redis_down_answers": sorted({p.status_code for p in probes}),
            "restarts": pipeline.restarts,
            "unfinished": explain(pipeline, result.lost + result.verdicts_undecided, [reviewer]),
        },
    )

    assert not load.failed, load.failed[:3]
    assert not result.lost, explain(pipeline, result.lost, [reviewer])
    assert not result.verdicts_undecided, explain(pipeline, result.verdicts_undecided, [reviewer])
    assert result.duplicate_effects == 0
    assert result.receiver_actions == result.webhook_actions
    assert audit.missing == 0 and audit.verified, audit.report
    # While Redis is down ingest accepts nothing and says when to retry; the SDK's retries got in after.
    assert probes and all(p.status_code == 503 and p.headers.get("Retry-After") for p in probes), [
        (p.status_code, p.text[:200]) for p in probes
    ]
    assert not leaked
    assert all(pid is not None for pid in pipeline.pids().values()), pipeline.pids()


def test_a_slow_webhook_of_one_tenant_does_not_hold_up_the_others(stage: Stage) -> None:
    pipeline = stage.pipeline
    stage.targets["slow"].slow("/", 3.0)
    labels = model_labels(pipeline.model)
    # Routine questions only: each that is not judged out of scope ends in one webhook call.
    slow = [s for s in clinc_events(400, "slow", labels, seed=7) if s.kind == "auto"][:40]
    steady = [s for s in clinc_events(600, "steady", labels, seed=8) if s.kind == "auto"][:300]
    slow_load = Load(pipeline, slow, rate_per_s=20).start()
    slow_load.join(timeout_s=120)
    steady_load = Load(pipeline, steady, rate_per_s=10).start()
    steady_load.join(timeout_s=300)
    result = settle(pipeline, {s.event_id for s in slow_load.accepted + steady_load.accepted}, [], timeout_s=600)

    def latencies(load: Load, target: HttpTarget) -> list[float]:
        first: dict[str, float] = {}
        for request in target.received():
            first.setdefault(request.body["event_id"], request.at)
        return sorted(first[s.event_id] - s.at for s in load.accepted if s.event_id in first)

    slow_latency = latencies(slow_load, stage.targets["slow"])
    steady_latency = latencies(steady_load, stage.targets["steady"])
    slow_requests = stage.targets["slow"].received()
    window = (slow_requests[0].at, slow_requests[-1].at)
    during = [r for r in stage.targets["steady"].received() if window[0] <= r.at <= window[1]]
    record_results(
        "slow-webhook",
        {
            "command": "make chaos",
            "slow_tenant_actions": len(slow_latency),
            "slow_seconds_per_call": 3.0,
            "slow_p50_s": round(statistics.median(slow_latency), 1),
            "slow_max_s": round(slow_latency[-1], 1),
            "steady_tenant_actions": len(steady_latency),
            "steady_p50_s": round(statistics.median(steady_latency), 2),
            "steady_p95_s": round(steady_latency[int(0.95 * (len(steady_latency) - 1))], 2),
            "steady_actions_while_slow_backlogged": len(during),
            **result.summary(),
        },
    )

    assert not result.lost and result.duplicate_effects == 0
    assert slow_latency[-1] > 20, "the slow tenant's backlog took its time"
    assert len(during) >= 100, "the steady tenant's actions kept arriving while the slow tenant's queued"
    assert steady_latency[int(0.95 * (len(steady_latency) - 1))] < 10
