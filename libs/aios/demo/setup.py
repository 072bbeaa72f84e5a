"""Bringing the pipeline up for the demo and the pipeline benchmark: stack, model, services, tenant."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
from rich.console import Console
from rich.progress import Progress

from aios.classify.settings import ClassifySettings
from aios.connectors.builtin import default_connectors
from aios.connectors.config import ConnectorConfigs
from aios.db.pool import run_on_database
from aios.demo.receiver import ReceiverSettings
from aios.demo.tracking import PipelineWatch
from aios.errors import AiosError
from aios.inference.errors import ModelNotFoundError
from aios.inference.lifecycle import headline, train_default_model
from aios.inference.model_registry import ModelRegistry
from aios.paths import project_root
from aios.policy.loading import load_policy_file
from aios.policy.store import PolicyStore
from aios.progress import COUNTING_COLUMNS, training_bar
from aios.retrieval.ingestion import add_paths
from aios.review.accounts import ReviewerAccounts
from aios.review.errors import ReviewerExists
from aios.runtime.catalog import load_services
from aios.runtime.probes import wait_until_ok
from aios.runtime.supervisor import service_endpoints, start_services
from aios.settings import ConnectionSettings
from aios.stack.stack import LocalStack
from aios.tenants.errors import TenantNotFoundError
from aios.tenants.store import IssuedKey, TenantStore

DEMO_TENANT = "demo"
REVIEWER = "reviewer"
DATA = project_root() / "data"


@dataclass(frozen=True)
class RunningPipeline:
    connection: ConnectionSettings
    urls: dict[str, str]
    """The stack's endpoints and the services' URLs (`ingest_url`, `review_url`...)."""
    tenant: IssuedKey
    reviewer_password: str
    receiver_secret: str
    """The receiver's webhook signing secret (and the bearer token of its ERP and claims stand-ins)."""


def start_pipeline(console: Console) -> RunningPipeline:
    """The stack, the default model (trained on a first run), every service, and the demo tenant ready to send."""
    stack = LocalStack()
    with console.status("starting the local stack") as status:
        stack.up(on_step=lambda step: status.update(step))
    endpoints = stack.endpoints()
    connection = ConnectionSettings(
        kafka_bootstrap=endpoints["kafka_bootstrap"], schema_registry_url=endpoints["schema_registry_url"]
    )
    console.print(f"[bold]stack[/] {endpoints['broker']} at {endpoints['kafka_bootstrap']}")
    ensure_model(console)
    with console.status("starting the services (aios up)") as status:
        start_services(stack)
        wait_for_services(status.update)
    tenant = run_on_database(demo_tenant)
    password, secret = prepare_tenant(console)
    return RunningPipeline(connection, {**endpoints, **service_endpoints(stack.settings)}, tenant, password, secret)


def ensure_model(console: Console) -> None:
    model = ClassifySettings().model_name

    async def has_production(pool: asyncpg.Pool) -> bool:
        try:
            await ModelRegistry(pool).resolve(model)
        except ModelNotFoundError:
            return False
        return True

    if not run_on_database(has_production):
        console.print(f"[bold]first run[/]: training the default model `{model}` on CLINC150 (minutes on a CPU)")
        with training_bar(console=console) as on_step:
            row = train_default_model(DATA / "clinc150" / "data_full.json", promote=True, on_step=on_step)
        console.print(f"registered and promoted to production: {headline(row)}")


def wait_for_services(update: Callable[[str], object], timeout_s: float = 300) -> None:
    """Every service of `aios up` answering on its health path (workers wait for their model first)."""
    deadline = time.monotonic() + timeout_s
    for spec in load_services():
        url = f"http://127.0.0.1:{spec.port}{spec.health_path}"
        update(f"waiting for {spec.name} ({url})")
        if not wait_until_ok(url, max(1.0, deadline - time.monotonic())):
            raise AiosError(f"{spec.name} is not healthy at {url}; see `aios ps` and its log")


async def demo_tenant(pool: asyncpg.Pool) -> IssuedKey:
    """The demo tenant with a fresh key (an existing tenant's old key keeps its grace period)."""
    store = TenantStore(pool)
    try:
        return await store.rotate_key(DEMO_TENANT)
    except TenantNotFoundError:
        return await store.create_tenant(DEMO_TENANT)


def prepare_tenant(console: Console) -> tuple[str, str]:
    """Knowledge base, policy, a reviewer and a webhook receiver for the demo tenant; the reviewer's password
    and the receiver's secret."""
    console.print("[bold]knowledge base[/]: aios kb add --tenant demo data/kb/demo/articles")
    found = run_on_database(lambda pool: TenantStore(pool).resolve(DEMO_TENANT))
    with Progress(*COUNTING_COLUMNS, console=console) as progress:
        task = progress.add_task("ingesting", total=None)
        report = add_paths(
            found.tenant_id,
            [DATA / "kb" / "demo" / "articles"],
            on_start=lambda count: progress.update(task, total=count),
            advance=lambda _: progress.advance(task),
        )
    console.print(f"[bold]knowledge base[/]: {report.summary()}")
    loaded = load_policy_file(project_root() / "policies" / f"{DEMO_TENANT}.yaml")
    password = secrets.token_urlsafe(9)
    webhook_secret = secrets.token_urlsafe(24)
    receiver = ReceiverSettings()
    webhook = default_connectors(httpx.AsyncClient())["webhook"].check_config(
        {"url": f"http://127.0.0.1:{receiver.port}/hooks/demo", "secret": webhook_secret}
    )

    async def work(pool: asyncpg.Pool) -> str:
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
    start_receiver(receiver, webhook_secret)
    console.print(f"[bold]receiver[/]: the tenant's webhook actions go to http://127.0.0.1:{receiver.port}/hooks/demo")
    return password, webhook_secret


def receiver_pid_file() -> Path:
    return LocalStack().settings.state_dir / "demo" / "receiver.pid"


def start_receiver(settings: ReceiverSettings, secret: str) -> None:
    """A fresh receiver (a new secret each run), detached so review approvals after the demo still land."""
    stop_receiver()
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
    receiver_pid_file().parent.mkdir(parents=True, exist_ok=True)
    receiver_pid_file().write_text(str(process.pid))
    if not wait_until_ok(f"http://127.0.0.1:{settings.port}/healthz", 30):
        raise AiosError("the demo receiver did not start; see .aios/logs/demo-receiver.log")


def stop_receiver() -> None:
    pid_file = receiver_pid_file()
    if pid_file.exists():
        with suppress(ProcessLookupError, ValueError):
            os.kill(int(pid_file.read_text()), signal.SIGTERM)
        pid_file.unlink()


def wait_final(console: Console, watch: PipelineWatch, total: int, timeout_s: float = 600) -> None:
    """Poll the topics until `total` tracked events are final (or `timeout_s` passed), with a progress bar."""
    deadline = time.monotonic() + timeout_s
    with Progress(*COUNTING_COLUMNS, console=console) as progress:
        task = progress.add_task("events in a final state", total=total)
        while watch.finished < total and time.monotonic() < deadline:
            watch.poll()
            progress.update(task, completed=watch.finished)
    if watch.finished < total:
        console.print(f"[red]{total - watch.finished} events did not reach a final state in {timeout_s:.0f} s[/]")


def wait_resumed(console: Console, watch: PipelineWatch, review_ids: set[str], timeout_s: float = 120) -> None:
    """Poll until decide resumed every event of `review_ids` and each is final again (its actions done)."""
    waiting = [t for t in watch.tracks.values() if t.review_id in review_ids]
    deadline = time.monotonic() + timeout_s
    with Progress(*COUNTING_COLUMNS, console=console) as progress:
        task = progress.add_task("reviewed events resumed by decide", total=len(waiting))
        while time.monotonic() < deadline and not all(t.resumed_ms and t.final for t in waiting):
            watch.poll()
            progress.update(task, completed=sum(1 for t in waiting if t.resumed_ms and t.final))
