"""`python -m aios.bench`: start the stack and the services it needs, run benchmarks, write the report."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from datetime import date

import typer
from rich.console import Console

from aios.bench import classify as classify_bench
from aios.bench import cost
from aios.bench import infer as infer_bench
from aios.bench import ingest as ingest_bench
from aios.bench import pipeline as pipeline_bench
from aios.bench import wait as wait_bench
from aios.bench.audit import act_section, audit_section
from aios.bench.decide import decide_section
from aios.bench.document_pipeline import DocumentPipelinePlan, document_pipeline_section
from aios.bench.documents import documents_section
from aios.bench.drafts import drafts_section
from aios.bench.extract import extract_section
from aios.bench.ingest import run_ingest_bench
from aios.bench.model_speed import clinc_texts, few_per_label
from aios.bench.report import stamp, write_section
from aios.bench.retrieval import retrieval_section
from aios.classify.routes import ModelRef
from aios.classify.torch_backend import TorchBackend
from aios.classify.triton_backend import TritonBackend
from aios.db.pool import open_pool
from aios.db.scratch import scratch_database
from aios.demo.setup import start_pipeline
from aios.inference.classifier import TextClassifier
from aios.inference.lifecycle import publish
from aios.inference.model_registry import LocalArtifactStore, ModelRegistry, ModelVersion
from aios.inference.settings import ModelSettings
from aios.inference.training import RecipeSettings, load_clinc150, train
from aios.inference.triton_process import start_triton
from aios.kafka.scratch import ScratchTopics
from aios.paths import project_root
from aios.runtime.probes import wait_until_ok
from aios.settings import ConnectionSettings
from aios.stack.stack import LocalStack
from aios.tenants.store import IssuedKey, TenantStore

BENCH_INGEST_PORT = 28900
BENCH_INFER_PORT = 28920


async def new_tenant(dsn: str) -> IssuedKey:
    async with open_pool(dsn, max_size=1) as pool:
        return await TenantStore(pool).create_tenant(f"bench-{uuid.uuid4().hex[:6]}")


def start_ingest(connection: ConnectionSettings, dsn: str, topic: str) -> subprocess.Popen[bytes]:
    """A dedicated ingest process with quotas out of the way: the benchmark measures the edge."""
    env = {
        **os.environ,
        "AIOS_KAFKA_BOOTSTRAP": connection.kafka_bootstrap,
        "AIOS_SCHEMA_REGISTRY_URL": connection.schema_registry_url,
        "AIOS_POSTGRES_DSN": dsn,
        "AIOS_INGEST_PORT": str(BENCH_INGEST_PORT),
        "AIOS_INGEST_TOPIC": topic,
        "AIOS_INGEST_QUOTA_RATE_PER_S": "1000000",
        "AIOS_INGEST_QUOTA_BURST": "1000000",
    }
    log = (LocalStack().settings.state_dir / "logs" / "bench-ingest.log").open("ab")
    process = subprocess.Popen([sys.executable, "-m", "services.ingest"], env=env, stdout=log, stderr=subprocess.STDOUT)
    if wait_until_ok(f"http://127.0.0.1:{BENCH_INGEST_PORT}/readyz", timeout_s=60):
        return process
    process.kill()
    raise SystemExit("the ingest service did not become ready; see .aios/logs/bench-ingest.log")


def ingest_section(console: Console, connection: ConnectionSettings, duration_s: float, levels: str) -> None:
    """The edge and the raw producer write to a private topic, tenants live in a private database:
    nothing the benchmark sends reaches the pipeline `aios up` runs."""
    with (
        scratch_database(connection.postgres_dsn.get_secret_value(), "aios_bench") as dsn,
        ScratchTopics(connection.kafka_bootstrap, connection.schema_registry_url, prefix="bench") as scratch,
    ):
        topic = scratch.make(ingest_bench.TOPIC, 6)
        tenant = asyncio.run(new_tenant(dsn))
        ingest = start_ingest(connection, dsn, topic)
        try:
            with console.status("ingest edge vs raw producer"):
                result = asyncio.run(
                    run_ingest_bench(
                        f"http://127.0.0.1:{BENCH_INGEST_PORT}",
                        tenant.api_key,
                        tenant.tenant_id,
                        connection,
                        topic,
                        levels=tuple(int(level) for level in levels.split(",")),
                        duration_s=duration_s,
                    )
                )
        finally:
            ingest.terminate()
            ingest.wait(timeout=30)
    image = project_root() / "docs" / "bench" / "ingest.png"
    ingest_bench.plot(result, image)
    report = write_section("ingest", ingest_bench.markdown(result, stamp("make bench"), "bench/ingest.png"))
    console.print(f"wrote {report} and {image}")


def classify_section(console: Console, connection: ConnectionSettings, texts: int, batch_size: int) -> None:
    """Raw model, torch worker and Triton worker on one model, registered in a database of the benchmark's own."""
    models = ModelSettings(batch_size=batch_size)
    store = LocalArtifactStore(models.artifact_dir)
    with scratch_database(connection.postgres_dsn.get_secret_value(), "aios_bench") as dsn:
        with console.status("training a small model to serve (frozen encoder: the forward pass is the same)"):
            version = asyncio.run(bench_model(dsn, store))
        torch_backend = TorchBackend(store, models)
        torch_backend.prepare([version])
        model = TextClassifier.load(store.fetch(version.artifact_uri), device=models.device)
        sample = clinc_texts(project_root() / "data" / "clinc150" / "data_full.json", texts)
        with console.status("starting a Triton server for the model"):
            triton = start_triton(dsn, models.artifact_dir, LocalStack().settings.state_dir / "logs", batch_size)
        try:
            triton_backend = TritonBackend(triton.url)
            triton_backend.prepare([version])
            with console.status(f"classify: raw model vs workers on {len(sample)} texts"):
                result = classify_bench.run_classify_bench(
                    connection,
                    model,
                    {"torch": torch_backend, "triton": triton_backend},
                    ModelRef(version.name, version.version),
                    sample,
                    batch_size=batch_size,
                    single_texts=min(len(sample), 400),
                )
        finally:
            triton.stop()
    image = project_root() / "docs" / "bench" / "classify.png"
    classify_bench.plot(result, image)
    report = write_section("classify", classify_bench.markdown(result, stamp("make bench"), "bench/classify.png"))
    console.print(f"wrote {report} and {image}")


def infer_section(console: Console, connection: ConnectionSettings, duration_s: float) -> None:
    """`services.infer` on the benchmark's model, in a database of the benchmark's own, against the raw model."""
    models = ModelSettings()
    store = LocalArtifactStore(models.artifact_dir)
    sample = clinc_texts(project_root() / "data" / "clinc150" / "data_full.json", 2000)
    with scratch_database(connection.postgres_dsn.get_secret_value(), "aios_bench") as dsn:
        with console.status("training a small model to serve (frozen encoder: the forward pass is the same)"):
            version = asyncio.run(bench_model(dsn, store))
        tenant = asyncio.run(new_tenant(dsn))
        url = f"http://127.0.0.1:{BENCH_INFER_PORT}"
        env = {**os.environ, "AIOS_POSTGRES_DSN": dsn, "AIOS_INFER_PORT": str(BENCH_INFER_PORT)}
        log = (LocalStack().settings.state_dir / "logs" / "bench-infer.log").open("ab")
        service = subprocess.Popen(
            [sys.executable, "-m", "services.infer"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            ready = f"{url}/v2/models/{version.name}/ready"
            if not wait_until_ok(ready, timeout_s=120, headers={"Authorization": f"Bearer {tenant.api_key}"}):
                raise SystemExit("the infer service did not serve the model; see .aios/logs/bench-infer.log")
            model = TextClassifier.load(store.fetch(version.artifact_uri), device=models.device)
            with console.status("infer: callers of the endpoint at 1, 16 and 64, each beside the raw model"):
                result = asyncio.run(
                    infer_bench.run_infer_bench(url, version.name, tenant.api_key, model, sample, duration_s=duration_s)
                )
        finally:
            service.terminate()
            service.wait(timeout=30)
    image = project_root() / "docs" / "bench" / "infer.png"
    infer_bench.plot(result, image)
    report = write_section("infer", infer_bench.markdown(result, stamp("make bench"), "bench/infer.png"))
    console.print(f"wrote {report} and {image}")


async def bench_model(dsn: str, store: LocalArtifactStore) -> ModelVersion:
    """`bench-intents`, promoted to production: 20 CLINC150 examples per intent, head only."""
    splits = load_clinc150(project_root() / "data" / "clinc150" / "data_full.json")
    examples = few_per_label(splits.train, 20)
    result = await asyncio.to_thread(train, examples, None, RecipeSettings(finetune=False, frozen_epochs=5))
    async with open_pool(dsn, max_size=2) as pool:
        return await publish(ModelRegistry(pool), store, "bench-intents", result, promote_to="production")


def main(
    only: str = typer.Option(
        "ingest,classify,infer,retrieval,drafts,decide,audit,act,documents,extract,pipeline,wait,documents-pipeline",
        help="Sections to run, comma separated.",
    ),
    duration_s: float = typer.Option(8.0, help="Seconds per ingest and infer measurement."),
    levels: str = typer.Option("1,4,16,64", help="Ingest concurrency levels, comma separated."),
    texts: int = typer.Option(4000, help="Texts the classify worker and raw model go through."),
    batch_size: int = typer.Option(64, help="Model batch size of the classify benchmark."),
    burst: int = typer.Option(1500, help="Events of the pipeline benchmark's burst (how fast a backlog drains)."),
    hold_s: float = typer.Option(300.0, help="Seconds each candidate rate is offered in the sustained-rate search."),
    probes: int = typer.Option(4, help="Candidate rates the sustained-rate search tries."),
    level_s: float = typer.Option(60.0, help="Seconds of each open-loop level of the pipeline benchmark."),
    documents: int = typer.Option(96, help="Born-digital documents of the extract benchmark."),
    scans: int = typer.Option(24, help="Scanned documents of the extract benchmark."),
    drafts: int = typer.Option(40, help="Drafts the local model writes one at a time (its speed)."),
    draft_events: int = typer.Option(300, help="Events through retrieve-generate, extractive then generative."),
    pipeline_documents: int = typer.Option(48, help="Born-digital invoices uploaded through the whole pipeline."),
    pipeline_scans: int = typer.Option(12, help="Scanned invoices uploaded through the whole pipeline."),
) -> None:
    console = Console()
    stack = LocalStack()
    with console.status("starting the stack"):
        stack.up()
    endpoints = stack.endpoints()
    connection = ConnectionSettings(
        kafka_bootstrap=endpoints["kafka_bootstrap"], schema_registry_url=endpoints["schema_registry_url"]
    )
    runs: dict[str, Callable[[], None]] = {
        "ingest": lambda: ingest_section(console, connection, duration_s, levels),
        "classify": lambda: classify_section(console, connection, texts, batch_size),
        "infer": lambda: infer_section(console, connection, duration_s),
        "retrieval": lambda: retrieval_section(console, connection, queries=100, events=900, batch=64),
        "drafts": lambda: drafts_section(console, connection, drafts, draft_events, batch=64),
        "audit": lambda: audit_section(console, connection, events=5000),
        "decide": lambda: decide_section(console, connection, events=5000),
        "act": lambda: act_section(console, connection, decisions=6000),
        "documents": lambda: documents_section(console),
        "extract": lambda: extract_section(console, connection, documents, scans),
        "pipeline": lambda: pipeline_section(console, pipeline_bench.PipelineBenchPlan(burst, hold_s, probes, level_s)),
        "wait": lambda: wait_section(console, burst, level_s),
        "documents-pipeline": lambda: document_pipeline_section(
            console,
            DocumentPipelinePlan(pipeline_documents, pipeline_scans),
            f"python -m aios.bench --only documents-pipeline --pipeline-documents {pipeline_documents} "
            f"--pipeline-scans {pipeline_scans}",
        ),
    }
    """In this order: the pipeline section starts every service, and wait uses them."""
    chosen = only.split(",")
    if unknown := set(chosen) - runs.keys():
        raise typer.BadParameter(f"unknown sections: {', '.join(sorted(unknown))}", param_hint="--only")
    for name, run in runs.items():
        if name in chosen:
            run()


def pipeline_section(console: Console, plan: pipeline_bench.PipelineBenchPlan) -> None:
    """Last: it starts every service (`aios up`) and leaves them running, as `make demo` does."""
    result = pipeline_bench.run_pipeline_bench(console, start_pipeline(console), plan)
    bench_dir = project_root() / "docs" / "bench"
    pipeline_bench.plot(result, bench_dir / "pipeline.png")
    cost.plot(result.cost, result.model, bench_dir / "cost.png")
    cost.append_history(result.cost, result.model, bench_dir / "cost-history.csv", date.today().isoformat())
    section = pipeline_bench.markdown(result, stamp("make bench"), "bench/pipeline.png", "bench/cost.png")
    report = write_section("pipeline", section)
    console.print(f"wrote {report}, its figures and {bench_dir / 'cost-history.csv'}")


def wait_section(console: Console, burst: int, level_s: float) -> None:
    """After the pipeline section when both run: it uses the services that one left running."""
    result = wait_bench.run_wait_bench(console, start_pipeline(console), burst, level_s)
    report = write_section(
        "wait",
        wait_bench.markdown(result, stamp(f"python -m aios.bench --only wait --burst {burst} --level-s {level_s:g}")),
    )
    console.print(f"wrote {report}")


if __name__ == "__main__":
    typer.run(main)
