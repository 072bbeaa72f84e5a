"""`make demo`: the stack and the services, events sent through the ingest API, classified by the worker.

On a fresh machine it first trains the default intent model (CLINC150, a few minutes on a small CPU,
never downloaded) and promotes it to production for every tenant, the demo tenant included.
"""

from __future__ import annotations

import time
import uuid

import asyncpg
from confluent_kafka import Consumer, TopicPartition
from rich.console import Console
from rich.table import Table

from aios.classify.settings import CLASSIFIED_TOPIC, ClassifySettings
from aios.client import AiosClient
from aios.db.pool import run_on_database
from aios.errors import AiosError
from aios.inference.errors import ModelNotFoundError
from aios.inference.registry import ModelRegistry
from aios.paths import project_root
from aios.runtime.probes import wait_until_ok
from aios.runtime.supervisor import start_services
from aios.schemas.serde import Codecs
from aios.settings import ConnectionSettings
from aios.stack.stack import LocalStack
from aios.tenants.errors import TenantNotFoundError
from aios.tenants.store import IssuedKey, TenantStore

DEMO_TENANT = "demo"
SAMPLE_TEXTS = (
    "I was charged twice for my subscription this month",
    "please reset my online banking password",
    "how long will my package take to arrive",
    "what is the exchange rate between dollars and euros",
    "my card got declined at the supermarket",
    "can you recommend a good pizza topping for tonight",
)


def run_demo() -> None:
    console = Console()
    stack = LocalStack()
    with console.status("starting the local stack") as status:
        stack.up(on_step=lambda step: status.update(step))
    endpoints = stack.endpoints()
    connection = ConnectionSettings(
        kafka_bootstrap=endpoints["kafka_bootstrap"], schema_registry_url=endpoints["schema_registry_url"]
    )
    console.print(f"[bold]stack[/] {endpoints['broker']} at {endpoints['kafka_bootstrap']}")

    model = ClassifySettings().model_name
    if not run_on_database(lambda pool: _has_production(pool, model)):
        console.print(f"[bold]first run[/]: training the default model `{model}` on CLINC150 (minutes on a CPU)")
        from aios.cli.model import train_default

        train_default(data=project_root() / "data" / "clinc150" / "data_full.json", promote=True, as_json=False)

    with console.status("starting the services (aios up)"):
        start_services(stack)
        ingest_url = _wait_for_ingest()
    tenant = run_on_database(_demo_tenant)

    consumer = _consumer_at_end(connection)
    with AiosClient(ingest_url, tenant.api_key) as client:
        sent = {client.submit("support.ticket", text, {"channel": "demo"}): text for text in SAMPLE_TEXTS}
        console.print(f"[bold]sent[/] {len(sent)} events to {ingest_url}/v1/events as tenant `{DEMO_TENANT}`")
        with console.status("waiting for the classify worker"):
            classified = _read_classified(consumer, Codecs(connection.schema_registry_url), set(sent))
        first = next(iter(sent))
        first_status = client.status(first)

    table = Table("text", "label", "confidence", "oos", "model", "backend", "ms", title=CLASSIFIED_TOPIC)
    for event_id, text in sent.items():
        found = classified.get(event_id)
        if found is None:
            table.add_row(text, "[red]not classified yet[/]", "", "", "", "", "")
            continue
        c = found["classification"]
        table.add_row(
            text,
            c["label"],
            f"{c['confidence']:.2f}",
            "yes" if c["oos"] else "",
            f"{c['model_name']}:{c['model_version']} ({c['model_alias']})",
            c["backend"],
            f"{c['inference_ms']:.0f}",
        )
    console.print(table)
    console.print(f"GET {ingest_url}/v1/events/{first} → {first_status}")
    console.print("[green]demo done[/]: `aios ps` lists the services, `aios down` stops everything")


async def _has_production(pool: asyncpg.Pool, model: str) -> bool:
    try:
        await ModelRegistry(pool).resolve(model)
    except ModelNotFoundError:
        return False
    return True


async def _demo_tenant(pool: asyncpg.Pool) -> IssuedKey:
    """The demo tenant with a fresh key (an existing tenant's old key keeps its grace period)."""
    store = TenantStore(pool)
    try:
        return await store.rotate_key(DEMO_TENANT)
    except TenantNotFoundError:
        return await store.create_tenant(DEMO_TENANT)


def _wait_for_ingest(timeout_s: float = 120) -> str:
    ingest_url = LocalStack().endpoints().get("ingest_url", "http://127.0.0.1:28000")
    if not wait_until_ok(f"{ingest_url}/readyz", timeout_s):
        raise AiosError(f"the ingest service is not ready at {ingest_url}; see `aios ps` and its log")
    return ingest_url


def _consumer_at_end(connection: ConnectionSettings) -> Consumer:
    """A consumer on every partition of the classified topic at its end: where the demo's outputs land."""
    consumer = Consumer(
        {
            "bootstrap.servers": connection.kafka_bootstrap,
            "group.id": f"aios-demo-{uuid.uuid4().hex[:6]}",
            "enable.auto.commit": False,
        }
    )
    partitions = consumer.list_topics(CLASSIFIED_TOPIC, timeout=10).topics[CLASSIFIED_TOPIC].partitions
    ends = []
    for partition in partitions:
        _, high = consumer.get_watermark_offsets(TopicPartition(CLASSIFIED_TOPIC, partition), timeout=10)
        ends.append(TopicPartition(CLASSIFIED_TOPIC, partition, high))
    consumer.assign(ends)
    return consumer


def _read_classified(consumer: Consumer, codecs: Codecs, wanted: set[str], timeout_s: float = 180) -> dict[str, dict]:
    found: dict[str, dict] = {}
    deadline = time.monotonic() + timeout_s
    try:
        while len(found) < len(wanted) and time.monotonic() < deadline:
            for message in consumer.consume(500, 0.5):
                if message.error() is not None:
                    continue
                value = codecs.decode(CLASSIFIED_TOPIC, message.value() or b"")
                if value["event_id"] in wanted:
                    found[value["event_id"]] = value
    finally:
        consumer.close()
    return found
