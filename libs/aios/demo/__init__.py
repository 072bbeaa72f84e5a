"""`make demo`: the whole pipeline on the local stack, with 1,000 support tickets sent through the SDK.

On a fresh machine it first trains the default intent model (CLINC150, minutes on a small CPU,
never downloaded). Then it starts every service (`aios up`), prepares the demo tenant (knowledge
base, policy, a reviewer, a webhook to the tenant's own receiver), sends the events, follows each
through the topics until it reaches a final state, and prints what happened.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

import asyncpg
import httpx
from rich.console import Console
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from aios.bench.load import percentile
from aios.classify.settings import ClassifySettings
from aios.client import AsyncAiosClient
from aios.connectors.config import ConnectorConfigs
from aios.connectors.registry import default_connectors
from aios.db.pool import run_on_database
from aios.demo.events import DemoEvent, demo_events
from aios.demo.receiver import ReceiverSettings
from aios.demo.tracking import STAGES, PipelineWatch
from aios.errors import AiosError
from aios.inference.errors import ModelNotFoundError
from aios.inference.registry import ModelRegistry
from aios.paths import project_root
from aios.policy.loading import load_policy_file
from aios.policy.store import PolicyStore
from aios.review.accounts import ReviewerAccounts
from aios.review.errors import ReviewerExists
from aios.runtime.catalog import load_services
from aios.runtime.probes import answers_ok, wait_until_ok
from aios.runtime.supervisor import Supervisor, start_services
from aios.schemas.serde import Codecs
from aios.settings import ConnectionSettings
from aios.stack.stack import LocalStack, service_endpoints
from aios.tenants.errors import TenantNotFoundError
from aios.tenants.store import IssuedKey, TenantStore

DEMO_TENANT = "demo"
REVIEWER = "reviewer"
DATA = project_root() / "data"
FINAL_WAIT_S = 600


def run_demo(events: int = 1000, concurrency: int = 32) -> None:
    console = Console()
    started = time.monotonic()
    stack = LocalStack()
    with console.status("starting the local stack") as status:
        stack.up(on_step=lambda step: status.update(step))
    endpoints = stack.endpoints()
    connection = ConnectionSettings(
        kafka_bootstrap=endpoints["kafka_bootstrap"], schema_registry_url=endpoints["schema_registry_url"]
    )
    console.print(f"[bold]stack[/] {endpoints['broker']} at {endpoints['kafka_bootstrap']}")
    _ensure_model(console)
    with console.status("starting the services (aios up)") as status:
        start_services(stack)
        _wait_for_services(status.update)
    urls = {**stack.endpoints(), **service_endpoints(stack.settings)}

    tenant = run_on_database(_demo_tenant)
    password = _prepare_tenant(console, tenant)
    sent_events = demo_events(DATA / "clinc150" / "data_full.json", DATA / "clinc150" / "domains.json", events)
    watch = PipelineWatch(connection.kafka_bootstrap, Codecs(connection.schema_registry_url))
    try:
        sent = asyncio.run(_submit(console, urls["ingest_url"], tenant.api_key, sent_events, watch, concurrency))
        _follow(console, watch, len(sent))
        _summary(console, watch, sent, time.monotonic() - started)
    finally:
        watch.close()
    _next_steps(console, urls, password, next(iter(sent)))


def stop_demo() -> None:
    """`make demo-down`: the receiver, the services and the stack."""
    _stop_receiver()
    Supervisor().shutdown()
    LocalStack().down()


# -- preparing --------------------------------------------------------------------------------


def _ensure_model(console: Console) -> None:
    model = ClassifySettings().model_name

    async def has_production(pool: asyncpg.Pool) -> bool:
        try:
            await ModelRegistry(pool).resolve(model)
        except ModelNotFoundError:
            return False
        return True

    if not run_on_database(has_production):
        console.print(f"[bold]first run[/]: training the default model `{model}` on CLINC150 (minutes on a CPU)")
        from aios.cli.model import train_default

        train_default(data=DATA / "clinc150" / "data_full.json", promote=True, as_json=False)


def _wait_for_services(update: Callable[[str], object], timeout_s: float = 300) -> None:
    """Every service of `aios up` answering on its health path (workers wait for their model first)."""
    deadline = time.monotonic() + timeout_s
    for spec in load_services():
        url = f"http://127.0.0.1:{spec.port}{spec.health_path}"
        update(f"waiting for {spec.name} ({url})")
        if not wait_until_ok(url, max(1.0, deadline - time.monotonic())):
            raise AiosError(f"{spec.name} is not healthy at {url}; see `aios ps` and its log")


async def _demo_tenant(pool: asyncpg.Pool) -> IssuedKey:
    """The demo tenant with a fresh key (an existing tenant's old key keeps its grace period)."""
    store = TenantStore(pool)
    try:
        return await store.rotate_key(DEMO_TENANT)
    except TenantNotFoundError:
        return await store.create_tenant(DEMO_TENANT)


def _prepare_tenant(console: Console, tenant: IssuedKey) -> str:
    """Knowledge base, policy, a reviewer and a webhook receiver for the demo tenant; the reviewer's password."""
    from aios.cli.kb import add as kb_add

    console.print("[bold]knowledge base[/]: aios kb add --tenant demo data/kb/demo/articles")
    kb_add(paths=[DATA / "kb" / "demo" / "articles"], tenant=DEMO_TENANT, force=False, as_json=False)
    loaded = load_policy_file(project_root() / "policies" / f"{DEMO_TENANT}.yaml")
    password = secrets.token_urlsafe(9)
    webhook_secret = secrets.token_urlsafe(24)
    receiver = ReceiverSettings()
    webhook = default_connectors(httpx.AsyncClient())["webhook"].check_config(
        {"url": f"http://127.0.0.1:{receiver.port}/hooks/demo", "secret": webhook_secret}
    )

    async def work(pool: asyncpg.Pool) -> str:
        found = await TenantStore(pool).resolve(DEMO_TENANT)
        applied = await PolicyStore(pool).apply(found.tenant_id, loaded)
        accounts = ReviewerAccounts(pool)
        try:
            await accounts.add(found, REVIEWER, password)
        except ReviewerExists:
            await accounts.set_password(found, REVIEWER, password)
        await ConnectorConfigs(pool).set(found.tenant_id, "webhook", webhook)
        return applied.version

    version = run_on_database(work)
    console.print(f"[bold]policy[/]: policies/demo.yaml active as {version}; reviewer `{REVIEWER}` ready")
    _start_receiver(receiver, webhook_secret)
    console.print(f"[bold]receiver[/]: the tenant's webhook actions go to http://127.0.0.1:{receiver.port}/hooks/demo")
    return password


def _receiver_pid_file() -> Path:
    return LocalStack().settings.state_dir / "demo" / "receiver.pid"


def _start_receiver(settings: ReceiverSettings, secret: str) -> None:
    """A fresh receiver (a new secret each run), detached so review approvals after the demo still land."""
    _stop_receiver()
    settings.deliveries.unlink(missing_ok=True)
    logs = LocalStack().settings.state_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "AIOS_DEMO_RECEIVER_SECRET": secret, "AIOS_DEMO_RECEIVER_PORT": str(settings.port)}
    process = subprocess.Popen(
        [sys.executable, "-m", "aios.demo.receiver"],
        env=env,
        stdout=(logs / "demo-receiver.log").open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    _receiver_pid_file().parent.mkdir(parents=True, exist_ok=True)
    _receiver_pid_file().write_text(str(process.pid))
    if not wait_until_ok(f"http://127.0.0.1:{settings.port}/healthz", 30):
        raise AiosError("the demo receiver did not start; see .aios/logs/demo-receiver.log")


def _stop_receiver() -> None:
    pid_file = _receiver_pid_file()
    if pid_file.exists():
        with suppress(ProcessLookupError, ValueError):
            os.kill(int(pid_file.read_text()), signal.SIGTERM)
        pid_file.unlink()


# -- sending and following --------------------------------------------------------------------


async def _submit(
    console: Console, ingest_url: str, api_key: str, events: list[DemoEvent], watch: PipelineWatch, concurrency: int
) -> dict[str, float]:
    """Event id → send time (epoch seconds) of every accepted event, sent `concurrency` at a time."""
    sent: dict[str, float] = {}
    gate = asyncio.Semaphore(concurrency)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(f"sending {len(events)} events to {ingest_url}", total=len(events))
        async with AsyncAiosClient(ingest_url, api_key) as client:

            async def send(event: DemoEvent) -> None:
                async with gate:
                    at = time.time()
                    event_id = await client.submit(event.type, event.text, event.attributes)
                    sent[event_id] = at
                    watch.track([event_id])
                    progress.advance(task)

            await asyncio.gather(*(send(event) for event in events))
    return sent


def _follow(console: Console, watch: PipelineWatch, total: int) -> None:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    deadline = time.monotonic() + FINAL_WAIT_S
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("events in a final state", total=total)
        while watch.finished < total and time.monotonic() < deadline:
            watch.poll()
            progress.update(task, completed=watch.finished)
    if watch.finished < total:
        console.print(f"[red]{total - watch.finished} events did not reach a final state in {FINAL_WAIT_S} s[/]")


def _summary(console: Console, watch: PipelineWatch, sent: dict[str, float], seconds: float) -> None:
    tracks = watch.tracks
    stages = Table("stage (topic)", "events", title="Where the events went")
    for topic, stage in STAGES.items():
        stages.add_row(f"{stage} ({topic})", str(sum(1 for t in tracks.values() if stage in t.stages)))
    outcomes = Counter(t.outcome or "not final" for t in tracks.values())
    actions = Counter(status for t in tracks.values() for status in t.executed.values())
    latencies = [(t.final_ms / 1000 - sent[event_id]) * 1000 for event_id, t in tracks.items() if t.final_ms]
    deliveries = _deliveries()
    figures = Table("figure", "value", title="Outcome")
    figures.add_row("automated (AUTO)", str(outcomes["AUTO"]))
    figures.add_row("sent to review", str(outcomes["REVIEW"]))
    figures.add_row("rejected", str(outcomes["REJECT"]))
    figures.add_row("dead letters (expected 0)", str(outcomes["DEAD"] + watch.others["aios.deadletter"]))
    figures.add_row("not final", str(outcomes["not final"]))
    figures.add_row("actions executed", ", ".join(f"{k.lower()} {v}" for k, v in sorted(actions.items())) or "0")
    figures.add_row(
        "webhook deliveries at the receiver", f"{deliveries[0]} ({deliveries[1]} distinct idempotency keys)"
    )
    figures.add_row(
        "end-to-end latency p50 / p95 / p99",
        " / ".join(f"{percentile(latencies, q) / 1000:.1f} s" for q in (50, 95, 99)) if latencies else "n/a",
    )
    figures.add_row("demo wall time", f"{seconds / 60:.1f} min")
    console.print(stages)
    console.print(figures)


def _deliveries() -> tuple[int, int]:
    """Requests the receiver recorded, and how many distinct idempotency keys they carried."""
    path = ReceiverSettings().deliveries
    if not path.exists():
        return 0, 0
    keys = [json.loads(line).get("idempotency_key") for line in path.read_text(encoding="utf-8").splitlines()]
    return len(keys), len(set(keys))


def _next_steps(console: Console, urls: dict[str, str], password: str, an_event: str) -> None:
    review = urls.get("review_url", "http://127.0.0.1:28040")
    lines = [
        f"review queue   {review}",
        f"               tenant [bold]{DEMO_TENANT}[/], user [bold]{REVIEWER}[/], password [bold]{password}[/]",
        f"Prometheus     {urls.get('prometheus_url', '')}  (dashboards: infra/grafana/dashboards, see README)",
        "live view      .venv/bin/aios top",
        f"one event      .venv/bin/aios audit show {an_event}",
        "a topic        .venv/bin/aios tail aios.decisions --from-beginning",
        "stop           make demo-down",
    ]
    console.print(Panel("\n".join(lines), title="where to look next"))
    if not answers_ok(f"{review}/healthz"):
        console.print(f"[red]the review service does not answer at {review}; see `aios ps`[/]")
