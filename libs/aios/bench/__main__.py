"""`python -m aios.bench`: start the stack and the services it needs, run benchmarks, write the report."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid

import typer
from rich.console import Console

from aios.bench import classify as classify_bench
from aios.bench import ingest as ingest_bench
from aios.bench import pipeline as pipeline_bench
from aios.bench.audit import act_section, audit_section
from aios.bench.decide import decide_section
from aios.bench.drafts import drafts_section
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


async def bench_model(dsn: str, store: LocalArtifactStore) -> ModelVersion:
    """`bench-intents`, promoted to production: 20 CLINC150 examples per intent, head only."""
    splits = load_clinc150(project_root() / "data" / "clinc150" / "data_full.json")
    examples = few_per_label(splits.train, 20)
    result = await asyncio.to_thread(train, examples, None, RecipeSettings(finetune=False, frozen_epochs=5))
    async with open_pool(dsn, max_size=2) as pool:
        return await publish(ModelRegistry(pool), store, "bench-intents", result, promote_to="production")


def main(
    only: str = typer.Option(
        "ingest,classify,retrieval,drafts,decide,audit,act,pipeline", help="Sections to run, comma separated."
    ),
    duration_s: float = typer.Option(8.0, help="Seconds per ingest measurement."),
    levels: str = typer.Option("1,4,16,64", help="Ingest concurrency levels, comma separated."),
    texts: int = typer.Option(4000, help="Texts the classify worker and raw model go through."),
    batch_size: int = typer.Option(64, help="Model batch size of the classify benchmark."),
    burst: int = typer.Option(1500, help="Events of the pipeline benchmark's burst (its sustained rate)."),
    level_s: float = typer.Option(60.0, help="Seconds of each open-loop level of the pipeline benchmark."),
    drafts: int = typer.Option(40, help="Drafts the local model writes one at a time (its speed)."),
    draft_events: int = typer.Option(300, help="Events through retrieve-generate, extractive then generative."),
) -> None:
    console = Console()
    stack = LocalStack()
    with console.status("starting the stack"):
        stack.up()
    endpoints = stack.endpoints()
    connection = ConnectionSettings(
        kafka_bootstrap=endpoints["kafka_bootstrap"], schema_registry_url=endpoints["schema_registry_url"]
    )
    sections = set(only.split(","))
    if "ingest" in sections:
        ingest_section(console, connection, duration_s, levels)
    if "classify" in sections:
        classify_section(console, connection, texts, batch_size)
    if "retrieval" in sections:
        retrieval_section(console, connection, queries=100, events=900, batch=64)
    if "drafts" in sections:
        drafts_section(console, connection, drafts, draft_events, batch=64)
    if "audit" in sections:
        audit_section(console, connection, events=5000)
    if "decide" in sections:
        decide_section(console, connection, events=5000)
    if "act" in sections:
        act_section(console, connection, decisions=6000)
    if "pipeline" in sections:
        pipeline_section(console, burst, level_s)


def pipeline_section(console: Console, burst: int, level_s: float) -> None:
    """Last: it starts every service (`aios up`) and leaves them running, as `make demo` does."""
    result = pipeline_bench.run_pipeline_bench(console, start_pipeline(console), burst, level_s)
    image = project_root() / "docs" / "bench" / "pipeline.png"
    pipeline_bench.plot(result, image)
    report = write_section("pipeline", pipeline_bench.markdown(result, stamp("make bench"), "bench/pipeline.png"))
    console.print(f"wrote {report} and {image}")


if __name__ == "__main__":
    typer.run(main)
