"""Decide benchmark: events decided per second by a real `services.decide` process (Faust).

A private enriched topic is pre-filled with events of several tenants, each under the demo
policy, in a mix that exercises automatic decisions, reviews and the windowed state (70 %
routine questions decided automatically, 10 % fraud reports and 20 % low-confidence predictions
sent to review). The service reads them, repartitions them by tenant, updates its windowed
tables and writes one decision or review request per event; timed from the first output to the
last, so starting Faust and joining the group are not counted.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, TopicPartition
from rich.console import Console

from aios.bench.audit import _drain_time, _produce, _service, _stack_env
from aios.bench.lineage import event_records
from aios.bench.report import stamp, write_section
from aios.db.pool import open_pool
from aios.db.scratch import scratch_database
from aios.decide.app import delete_internal_topics
from aios.kafka import topics
from aios.kafka.clients import kafka_config
from aios.kafka.scratch import ScratchTopics
from aios.kafka.serde import Codecs
from aios.paths import project_root
from aios.policy.loading import load_policy
from aios.policy.store import PolicyStore
from aios.settings import ConnectionSettings
from aios.stack.stack import LocalStack
from aios.tenants.store import TenantStore

TENANTS = 10
TOPICS = (
    topics.EVENTS_ENRICHED.name,
    topics.REVIEW_COMPLETED.name,
    topics.DECISIONS.name,
    topics.REVIEW_REQUESTED.name,
)
MIX = (("balance", 0.93, 7), ("report_fraud", 0.97, 1), ("transactions", 0.42, 2))
"""(label, confidence, share in tenths) of the events."""


@dataclass(frozen=True)
class DecideResult:
    events: int
    load: float
    seconds: float
    events_per_s: float
    automatic: int
    reviews: int


def _tenants(dsn: str) -> list[str]:
    """TENANTS tenants, each with the demo policy active."""
    text = (project_root() / "policies" / "demo.yaml").read_text()

    async def work() -> list[str]:
        async with open_pool(dsn, max_size=2) as pool:
            ids = []
            for n in range(TENANTS):
                name = f"bench-decide-{n}"
                tenant = await TenantStore(pool).create_tenant(name)
                await PolicyStore(pool).apply(
                    tenant.tenant_id, load_policy(text.replace("tenant: demo", f"tenant: {name}"))
                )
                ids.append(tenant.tenant_id)
            return ids

    return asyncio.run(work())


def _events(tenants: list[str], events: int) -> list[dict[str, Any]]:
    labels = [(label, confidence) for label, confidence, tenths in MIX for _ in range(tenths)]
    values = []
    for n in range(events):
        value = event_records(tenants[n % len(tenants)])[topics.EVENTS_ENRICHED.name]
        label, confidence = labels[n % len(labels)]
        value["classification"] = {**value["classification"], "label": label, "confidence": confidence}
        value["pii_found"] = []
        value["attributes"] = {"customer": f"C-{n}"}
        values.append(value)
    return values


def _records_in(bootstrap: str, names: list[str]) -> int:
    """Records written to the topics `names` so far (sum of their high watermarks)."""
    consumer = Consumer({**kafka_config(bootstrap), "group.id": f"bench-count-{uuid.uuid4().hex[:6]}"})
    try:
        total = 0
        for topic in names:
            for partition in consumer.list_topics(topic, timeout=10).topics[topic].partitions:
                total += consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)[1]
        return total
    finally:
        consumer.close()


def run_decide_bench(connection: ConnectionSettings, console: Console, events: int) -> DecideResult:
    load = os.getloadavg()[0]
    app_id = f"bench-decide-{uuid.uuid4().hex[:8]}"
    with (
        scratch_database(connection.postgres_dsn.get_secret_value(), "aios_bench") as dsn,
        ScratchTopics(connection.kafka_bootstrap, connection.schema_registry_url, prefix="bench") as scratch,
    ):
        copies = {name: scratch.make(name, 6) for name in TOPICS}
        copies[topics.DEADLETTER.name] = scratch.make(topics.DEADLETTER.name, 1)
        codecs = Codecs(connection.schema_registry_url, carries=scratch.carries)
        values = _events(_tenants(dsn), events)
        with console.status(f"decide: filling the enriched topic with {events} events"):
            _produce(connection, codecs, [(copies[topics.EVENTS_ENRICHED.name], value) for value in values])
        env = {
            **_stack_env(connection, dsn),
            "AIOS_DECIDE_APP_ID": app_id,
            "AIOS_DECIDE_ENRICHED_TOPIC": copies[topics.EVENTS_ENRICHED.name],
            "AIOS_DECIDE_COMPLETED_TOPIC": copies[topics.REVIEW_COMPLETED.name],
            "AIOS_DECIDE_DECISIONS_TOPIC": copies[topics.DECISIONS.name],
            "AIOS_DECIDE_REVIEW_REQUESTED_TOPIC": copies[topics.REVIEW_REQUESTED.name],
            "AIOS_DECIDE_DEADLETTER_TOPIC": copies[topics.DEADLETTER.name],
            "AIOS_DECIDE_DATA_DIR": str(Path(LocalStack().settings.state_dir) / "faust-bench"),
            "AIOS_DECIDE_METRICS_PORT": "0",
        }
        process = _service("services.decide", env, "bench-decide.log")
        outputs = [copies[topics.DECISIONS.name], copies[topics.REVIEW_REQUESTED.name]]
        try:
            with console.status(f"decide: {events} events through the Faust app"):
                first, seconds = _drain_time(
                    lambda: _records_in(connection.kafka_bootstrap, outputs), events, process, timeout_s=900
                )
            automatic = _records_in(connection.kafka_bootstrap, [copies[topics.DECISIONS.name]])
        finally:
            process.terminate()
            process.wait(timeout=60)
            delete_internal_topics(connection.kafka_bootstrap, app_id)
    return DecideResult(events, load, seconds, (events - first) / seconds, automatic, events - automatic)


def decide_markdown(result: DecideResult, stamp_line: str) -> str:
    row = (
        f"| {result.events:,} | {result.automatic:,} | {result.reviews:,} | {result.seconds:.1f}"
        f" | **{result.events_per_s:,.0f}** |"
    )
    return f"""## Decide: events per second through the Faust app

{stamp_line}

A real `services.decide` process drains a private enriched topic (6 partitions) pre-filled with
{result.events:,} events of {TENANTS} tenants, each under `policies/demo.yaml`: 70 % routine questions
(decided `AUTO` with two rendered actions), 10 % fraud reports and 20 % low-confidence predictions
(sent to review). Each event goes through both agents (decode, repartition by tenant, the
tenant's windowed tables and pending reviews, policy evaluation, Avro output), with Faust's
at-least-once commits (outputs produced with `acks=all` before the offset commit). Timed from the
first output to the last; the 1-minute load average was {result.load:.1f} on {os.cpu_count()} cores when
the run started (other work shares them).

| events | decisions (AUTO) | review requests | seconds | events/s |
|---:|---:|---:|---:|---:|
{row}
"""


def decide_section(console: Console, connection: ConnectionSettings, events: int) -> None:
    result = run_decide_bench(connection, console, events)
    report = write_section("decide", decide_markdown(result, stamp("python -m aios.bench --only decide")))
    console.print(f"decide: {result.events_per_s:,.0f} events/s; wrote {report}")
