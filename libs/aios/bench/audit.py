"""Audit and act benchmarks: audit rows appended per second, and act's action throughput with the `log` connector.

Audit, three figures on the same realistic records (every topic's record of an event, with
personal data in its text for redaction to find), each in a database of its own:
- preparing rows (redaction, canonical JSON) without Kafka or PostgreSQL;
- the store appending prepared rows in batches of 500 (hash chain, one COPY per transaction);
- a real audit service process draining private copies of every topic pre-filled with the
  records (decode, redact, chain, append, commit), timed from its first appended row to its
  last, so starting the process and joining the group are not counted.

Act: a real act service process draining a private decisions topic pre-filled with decisions
whose actions are `log.record` (no side effect), timed from the first recorded result to the
last result published; once with one action per decision and once with chains of three (each
action waits for the one before, so the inbox, the claims and the outbox all do more work).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from rich.console import Console

from aios.audit.chain import AuditEntry
from aios.audit.records import entry_for
from aios.audit.store import AuditStore
from aios.bench.lineage import decision_value, event_records
from aios.bench.report import stamp, write_section
from aios.db.pool import open_pool
from aios.db.scratch import scratch_database
from aios.kafka import topics
from aios.kafka.producer import ReliableProducer
from aios.kafka.records import InputRecord
from aios.kafka.scratch import ScratchTopics
from aios.kafka.serde import Codecs
from aios.kafka.topics import load_catalogue
from aios.keys.signing import RecordSigner
from aios.settings import ConnectionSettings
from aios.stack.stack import LocalStack

TENANTS = 20
APPEND_BATCH = 500
DECISIONS, EXECUTED, DEADLETTER = topics.DECISIONS.name, topics.ACTIONS_EXECUTED.name, topics.DEADLETTER.name


@dataclass(frozen=True)
class AuditResult:
    rows: int
    load: float
    """The machine's 1-minute load average when the run started (other work shares the cores)."""
    prepare_per_s: float
    append_per_s: float
    service_per_s: float
    service_s: float


@dataclass(frozen=True)
class ActResult:
    actions_per_decision: int
    load: float
    decisions: int
    actions: int
    actions_per_s: float
    seconds: float


def _records(events: int) -> list[tuple[str, dict[str, object]]]:
    """(catalogue topic, value) of `events` whole events over TENANTS tenants."""
    found = []
    for n in range(events):
        for name, value in event_records(f"bench-tenant-{n % TENANTS}").items():
            found.append((name.split("#")[0], value))
    return found


def _service(module: str, env: dict[str, str], log_name: str) -> subprocess.Popen[bytes]:
    log = (LocalStack().settings.state_dir / "logs" / log_name).open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", module], env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT
    )


def _stack_env(connection: ConnectionSettings, dsn: str) -> dict[str, str]:
    return {
        "AIOS_KAFKA_BOOTSTRAP": connection.kafka_bootstrap,
        "AIOS_SCHEMA_REGISTRY_URL": connection.schema_registry_url,
        "AIOS_POSTGRES_DSN": dsn,
    }


def _produce(connection: ConnectionSettings, codecs: Codecs, records: list[tuple[str, dict[str, object]]]) -> None:
    producer = ReliableProducer(connection.kafka_bootstrap, client_id="bench")
    for topic, value in records:
        producer.produce(topic, codecs.encode(topic, value), key=f"{value['tenant_id']}:{value['event_id']}")
    producer.flush()


def _drain_time(
    count: Callable[[], int], total: int, process: subprocess.Popen[bytes], timeout_s: float
) -> tuple[int, float]:
    """Poll until `count()` reaches `total`; (count at the first non-zero poll, seconds from it to the end)."""
    deadline = time.monotonic() + timeout_s
    first: tuple[int, float] | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the service exited with {process.returncode}; see .aios/logs/")
        done = count()
        now = time.monotonic()
        if done and first is None:
            first = (done, now)
        if done >= total and first is not None:
            return first[0], now - first[1]
        time.sleep(0.05)
    raise SystemExit(f"only {count()} of {total} done after {timeout_s:.0f}s; see .aios/logs/")


def _count(dsn: str, sql: str) -> Callable[[], int]:
    async def query() -> int:
        async with open_pool(dsn, max_size=1) as pool:
            return int(await pool.fetchval(sql))

    return lambda: asyncio.run(query())


async def _append_all(dsn: str, entries: list[AuditEntry]) -> float:
    async with open_pool(dsn, max_size=2) as pool:
        store = AuditStore(pool)
        started = time.perf_counter()
        for start in range(0, len(entries), APPEND_BATCH):
            await store.append(entries[start : start + APPEND_BATCH])
        return time.perf_counter() - started


def run_audit_bench(connection: ConnectionSettings, console: Console, events: int) -> AuditResult:
    load = os.getloadavg()[0]
    records = _records(events)
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    inputs = [
        InputRecord(f"bench.{topic}", n % 6, n, None, value, [], {}, schema_id=1, timestamp_ms=now_ms)
        for n, (topic, value) in enumerate(records)
    ]
    shared = connection.postgres_dsn.get_secret_value()
    with console.status(f"audit: preparing and appending {len(records)} rows"):
        started = time.perf_counter()
        entries = [entry_for(record, record.topic.removeprefix("bench.")) for record in inputs]
        prepare_s = time.perf_counter() - started
        with scratch_database(shared, "aios_bench") as dsn:
            append_s = asyncio.run(_append_all(dsn, entries))
    with (
        scratch_database(shared, "aios_bench") as dsn,
        ScratchTopics(connection.kafka_bootstrap, connection.schema_registry_url, prefix="bench") as scratch,
    ):
        copies = {name: scratch.make(name, 3) for name in load_catalogue().names()}
        codecs = Codecs(connection.schema_registry_url, carries=scratch.carries)
        with console.status(f"audit: filling {len(copies)} topics with {len(records)} records"):
            _produce(connection, codecs, [(copies[topic], value) for topic, value in records])
        env = {
            **_stack_env(connection, dsn),
            "AIOS_AUDIT_TOPICS": json.dumps(list(copies.values())),
            "AIOS_AUDIT_CARRIES": json.dumps({copy: name for name, copy in copies.items()}),
            "AIOS_AUDIT_GROUP_ID": f"bench-audit-{uuid.uuid4().hex[:8]}",
            "AIOS_AUDIT_PORT": "0",
            "AIOS_LOOP_DEADLETTER_TOPIC": copies[DEADLETTER],
        }
        process = _service("services.audit", env, "bench-audit.log")
        try:
            with console.status("audit: the service drains the topics"):
                first, seconds = _drain_time(
                    _count(dsn, "SELECT count(*) FROM audit_log"), len(records), process, timeout_s=600
                )
        finally:
            process.terminate()
            process.wait(timeout=60)
    return AuditResult(
        rows=len(records),
        load=load,
        prepare_per_s=len(records) / prepare_s,
        append_per_s=len(records) / append_s,
        service_per_s=(len(records) - first) / seconds,
        service_s=seconds,
    )


def run_act_bench(
    connection: ConnectionSettings, console: Console, decisions: int, actions_per_decision: int
) -> ActResult:
    load = os.getloadavg()[0]
    signer = RecordSigner("decide", DECISIONS)  # act takes only decisions decide signed
    values = [
        signer.signed(
            decision_value(
                f"bench-tenant-{n % TENANTS}",
                [("log.record", {"note": f"step {i}"}) for i in range(actions_per_decision)],
            )
        )
        for n in range(decisions)
    ]
    total = decisions * actions_per_decision
    with (
        scratch_database(connection.postgres_dsn.get_secret_value(), "aios_bench") as dsn,
        ScratchTopics(connection.kafka_bootstrap, connection.schema_registry_url, prefix="bench") as scratch,
    ):
        copies = {
            name: scratch.make(name, 6 if name != DEADLETTER else 1) for name in (DECISIONS, EXECUTED, DEADLETTER)
        }
        codecs = Codecs(connection.schema_registry_url, carries=scratch.carries)
        with console.status(f"act: filling the decisions topic with {decisions} decisions"):
            _produce(connection, codecs, [(copies[DECISIONS], value) for value in values])
        env = {
            **_stack_env(connection, dsn),
            "AIOS_ACT_INPUT_TOPIC": copies[DECISIONS],
            "AIOS_ACT_OUTPUT_TOPIC": copies[EXECUTED],
            "AIOS_ACT_GROUP_ID": f"bench-act-{uuid.uuid4().hex[:8]}",
            "AIOS_ACT_METRICS_PORT": "0",
            "AIOS_LOOP_DEADLETTER_TOPIC": copies[DEADLETTER],
        }
        process = _service("services.act", env, "bench-act.log")
        published = (
            "SELECT CASE WHEN EXISTS (SELECT 1 FROM act_outbox) THEN 0"
            " ELSE (SELECT count(*) FROM act_actions WHERE status = 'succeeded') END"
        )
        try:
            with console.status(f"act: {total} log actions, {actions_per_decision} per decision"):
                first, seconds = _drain_time(_count(dsn, published), total, process, timeout_s=600)
        finally:
            process.terminate()
            process.wait(timeout=60)
    return ActResult(actions_per_decision, load, decisions, total, (total - first) / seconds, seconds)


def audit_markdown(result: AuditResult, stamp_line: str) -> str:
    verdict = "meets" if result.service_per_s >= 5000 else "misses"
    return f"""## Audit trail: rows appended per second

{stamp_line}

{result.rows:,} realistic records ({result.rows // 8:,} events of {TENANTS} tenants, every topic's record of each,
personal data in the text) in a database of their own. Preparing = redaction and canonical JSON;
store = hash chain and one COPY per batch of {APPEND_BATCH}; service = a real `services.audit` process
draining private copies of every topic (Avro decode, redaction, chain, append, offset commit),
from its first appended row to its last. Service, Kafka and PostgreSQL share the machine's cores
with other work: the 1-minute load average was {result.load:.1f} on {os.cpu_count()} cores when the run started.

| stage | rows/s |
|---|---:|
| preparing rows (redact, canonical JSON) | {result.prepare_per_s:,.0f} |
| store append (chain + COPY, batches of {APPEND_BATCH}) | {result.append_per_s:,.0f} |
| audit service through Kafka | **{result.service_per_s:,.0f}** |

The service appended {result.rows:,} rows in {result.service_s:.1f} s: **{result.service_per_s:,.0f} rows/s**
({verdict} the 5,000 rows/s goal).
"""


def act_markdown(results: list[ActResult], stamp_line: str) -> str:
    rows = "\n".join(
        f"| {r.actions_per_decision} | {r.decisions:,} | {r.actions:,} | {r.seconds:.1f} | **{r.actions_per_s:,.0f}** |"
        for r in results
    )
    return f"""## Act: actions per second with the `log` connector

{stamp_line}

A real `services.act` process (default settings: 32 actions at once, 4 per tenant, {TENANTS} tenants)
drains a private decisions topic pre-filled with decisions whose actions are `log.record`: intake
into the inbox, claim, perform, record the result with its outbox record in one transaction,
publish with `acks=all`. Timed from the first result recorded to the last one published; a
decision's actions run one after the other. 1-minute load average when each run started (other
work shares the cores): {", ".join(f"{r.load:.1f}" for r in results)} on {os.cpu_count()} cores.

| actions per decision | decisions | actions | seconds | actions/s |
|---:|---:|---:|---:|---:|
{rows}
"""


def audit_section(console: Console, connection: ConnectionSettings, events: int) -> None:
    result = run_audit_bench(connection, console, events)
    report = write_section("audit", audit_markdown(result, stamp("python -m aios.bench --only audit")))
    console.print(f"audit: {result.service_per_s:,.0f} rows/s through the service; wrote {report}")


def act_section(console: Console, connection: ConnectionSettings, decisions: int) -> None:
    results = [run_act_bench(connection, console, decisions, 1), run_act_bench(connection, console, decisions // 3, 3)]
    report = write_section("act", act_markdown(results, stamp("python -m aios.bench --only act")))
    console.print(f"act: {results[0].actions_per_s:,.0f} log actions/s; wrote {report}")
