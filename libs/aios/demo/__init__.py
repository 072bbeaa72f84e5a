"""`make demo`: the whole pipeline on the local stack, with 1,000 support tickets sent through the SDK.

On a fresh machine it first trains the default intent model (CLINC150, minutes on a small CPU,
never downloaded). Then it starts every service (`aios up`), prepares the demo tenant (knowledge
base, policy, a reviewer, a webhook to the tenant's own receiver), sends the events, follows each
through the topics until it reaches a final state, and prints what happened. Last, the demo
reviewer completes a share of the review items on the review page and the summary shows decide
resuming those events.

Beside the tickets it sends 110 invoices and 55 claims (seeded synthetic PDFs, about a quarter of
them scans, some with planted errors) through `POST /v1/documents` to the `payables` and `claims`
tenants, follows them to payout or review, lets the reviewer clear their queues, and shows per
document type what became of them (aios.demo.documents, aios.demo.document_run).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter

from rich.console import Console
from rich.panel import Panel
from rich.progress import Progress
from rich.table import Table

from aios.client import AsyncAiosClient
from aios.demo.document_run import (
    document_summary,
    follow_documents,
    prepare_document_tenants,
    review_documents,
    send_documents,
)
from aios.demo.documents import demo_documents
from aios.demo.events import DemoEvent, demo_events
from aios.demo.receiver import ReceiverSettings
from aios.demo.reviewer import Completed, ReviewPage, review_share
from aios.demo.setup import (
    DATA,
    DEMO_TENANT,
    REVIEWER,
    RunningPipeline,
    start_pipeline,
    stop_receiver,
    wait_final,
    wait_resumed,
)
from aios.demo.tracking import STAGES, EventTrack, PipelineWatch
from aios.kafka import topics
from aios.kafka.serde import Codecs
from aios.progress import COUNTING_COLUMNS
from aios.runtime.catalog import service
from aios.runtime.probes import answers_ok
from aios.runtime.supervisor import Supervisor
from aios.stack.stack import LocalStack
from aios.stats import percentile

REVIEW_SHARE = 0.2
"""Share of the burst's review items the demo reviewer completes; the rest stay open for the reader."""


def run_demo(events: int = 1000, concurrency: int = 32) -> None:
    console = Console()
    started = time.monotonic()
    pipeline = start_pipeline(console)
    sent_events = demo_events(DATA / "clinc150" / "data_full.json", DATA / "clinc150" / "domains.json", events)
    connection = pipeline.connection
    watch = PipelineWatch(connection.kafka_bootstrap, Codecs(connection.schema_registry_url))
    try:
        sent = asyncio.run(
            send_events(console, pipeline.urls["ingest_url"], pipeline.tenant.api_key, sent_events, watch, concurrency)
        )
        wait_final(console, watch, len(sent))
        _summary(console, watch, sent, time.monotonic() - started)
        review_url = pipeline.urls.get("review_url", service("review").local_url)
        completed = close_the_loop(console, review_url, pipeline.reviewer_password, watch)
        review_summary(console, watch.tracks, completed)
    finally:
        watch.close()
    run_documents(console, pipeline, review_url)
    _next_steps(console, pipeline.urls, pipeline.reviewer_password, next(iter(sent)))


def run_documents(console: Console, pipeline: RunningPipeline, review_url: str) -> None:
    """The invoices and claims: generated, their tenants prepared, uploaded, followed to payout, reviewed, summed up."""
    with console.status("generating the demo's invoices and claims (seeded; scans rasterised)"):
        documents = demo_documents(seed=int(time.time()) % 1_000_000)
    console.print(f"[bold]documents[/]: seed {documents.seed}, {len(documents.documents)} files")
    keys = prepare_document_tenants(console, documents, REVIEWER, pipeline.reviewer_password, pipeline.receiver_secret)
    connection = pipeline.connection
    watch = PipelineWatch(connection.kafka_bootstrap, Codecs(connection.schema_registry_url))
    try:
        sent = asyncio.run(send_documents(console, pipeline.urls["ingest_url"], keys, documents.documents, watch))
        follow_documents(console, watch, sent)
        completed = review_documents(console, review_url, REVIEWER, pipeline.reviewer_password, watch, sent)
        console.print(f"the demo reviewer completed {len(completed)} document reviews")
        wait_resumed(console, watch, {c.review_id for c in completed})
        document_summary(console, watch, sent)
    finally:
        watch.close()


def stop_demo() -> None:
    """`make demo-down`: the receiver, the services and the stack."""
    stop_receiver()
    Supervisor().shutdown()
    LocalStack().down()


async def send_events(
    console: Console, ingest_url: str, api_key: str, events: list[DemoEvent], watch: PipelineWatch, concurrency: int
) -> dict[str, float]:
    """Event id → send time (epoch seconds) of every accepted event, sent `concurrency` at a time."""
    sent: dict[str, float] = {}
    gate = asyncio.Semaphore(concurrency)
    with Progress(*COUNTING_COLUMNS, console=console) as progress:
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
    figures.add_row("dead letters (expected 0)", str(outcomes["DEAD"] + watch.others[topics.DEADLETTER.name]))
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


def close_the_loop(
    console: Console, review_url: str, password: str, watch: PipelineWatch, share: float = REVIEW_SHARE
) -> list[Completed]:
    """The demo reviewer signs in and completes `share` of the open items; wait until decide resumed each."""
    page = ReviewPage(review_url)
    try:
        page.sign_in(DEMO_TENANT, REVIEWER, password)
        with console.status(f"the demo reviewer completes {share:.0%} of the open review items at {review_url}"):
            ours = {t.review_id for t in watch.tracks.values() if t.review_id}
            completed = review_share(page, share, among=ours)
    finally:
        page.close()
    wait_resumed(console, watch, {c.review_id for c in completed})
    return completed


def review_summary(console: Console, tracks_by_event: dict[str, EventTrack], completed: list[Completed]) -> None:
    """How many items the demo reviewer completed, how many decide resumed, what they became, and how soon."""
    by_review = {t.review_id: t for t in tracks_by_event.values() if t.review_id}
    tracks = [by_review[c.review_id] for c in completed if c.review_id in by_review]
    resumed = [t for t in tracks if t.resumed_ms]
    waits = [(t.resumed_ms - t.review_requested_ms) / 1000 for t in resumed if t.resumed_ms and t.review_requested_ms]
    figures = Table("figure", "value", title="After review")
    verdicts = Counter(c.verdict for c in completed)
    figures.add_row(
        "completed by the demo reviewer",
        f"{len(completed)} of {len(by_review)} ("
        + ", ".join(f"{verdict.lower()} {n}" for verdict, n in sorted(verdicts.items()))
        + ")",
    )
    outcomes = Counter(t.outcome for t in resumed)
    figures.add_row(
        "resumed by decide", f"{len(resumed)}: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))
    )
    actions = Counter(status for t in resumed for status in t.executed.values())
    figures.add_row("their actions", ", ".join(f"{k.lower()} {v}" for k, v in sorted(actions.items())) or "none")
    figures.add_row(
        "review request → decision p50 / max",
        f"{percentile(waits, 50):.1f} s / {max(waits):.1f} s (the reviewer began after the burst)" if waits else "n/a",
    )
    console.print(figures)


def _deliveries() -> tuple[int, int]:
    """Webhook requests the receiver recorded, and how many distinct idempotency keys they carried."""
    path = ReceiverSettings().deliveries
    if not path.exists():
        return 0, 0
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    keys = [line.get("idempotency_key") for line in lines if line["path"].startswith("/hooks/")]
    return len(keys), len(set(keys))


def _next_steps(console: Console, urls: dict[str, str], password: str, an_event: str) -> None:
    review = urls.get("review_url", service("review").local_url)
    lines = [
        f"review queue   {review}",
        f"               tenant [bold]{DEMO_TENANT}[/], user [bold]{REVIEWER}[/], password [bold]{password}[/]",
        f"Prometheus     {urls.get('prometheus_url', '')}  (dashboards: infra/grafana/dashboards, see README)",
        "live view      .venv/bin/aios top",
        f"one event      .venv/bin/aios audit show {an_event}",
        f"its trace      .venv/bin/aios trace {an_event}  (Jaeger {urls.get('jaeger_url', '')})",
        "a topic        .venv/bin/aios tail aios.decisions --from-beginning",
        "stop           make demo-down",
    ]
    console.print(Panel("\n".join(lines), title="where to look next"))
    if not answers_ok(f"{review}/healthz"):
        console.print(f"[red]the review service does not answer at {review}; see `aios ps`[/]")
