"""`python -m aios.bench`: start the stack and the services it needs, run benchmarks, write the report."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid

import asyncpg
import httpx
import typer
from rich.console import Console

from aios.bench.ingest import markdown, plot, run_ingest_bench
from aios.bench.report import stamp, write_section
from aios.db.migrations import migrate
from aios.paths import project_root
from aios.settings import ConnectionSettings
from aios.stack.stack import LocalStack
from aios.tenants.store import IssuedKey, TenantStore

BENCH_INGEST_PORT = 28900


async def new_tenant(connection: ConnectionSettings) -> IssuedKey:
    pool = await asyncpg.create_pool(connection.postgres_dsn.get_secret_value(), min_size=1, max_size=2)
    try:
        await migrate(pool)
        return await TenantStore(pool).create_tenant(f"bench-{uuid.uuid4().hex[:6]}")
    finally:
        await pool.close()


def start_ingest(connection: ConnectionSettings) -> subprocess.Popen[bytes]:
    """A dedicated ingest process with quotas out of the way: the benchmark measures the edge."""
    env = {
        **os.environ,
        "AIOS_KAFKA_BOOTSTRAP": connection.kafka_bootstrap,
        "AIOS_SCHEMA_REGISTRY_URL": connection.schema_registry_url,
        "AIOS_INGEST_PORT": str(BENCH_INGEST_PORT),
        "AIOS_INGEST_QUOTA_RATE_PER_S": "1000000",
        "AIOS_INGEST_QUOTA_BURST": "1000000",
    }
    log = (LocalStack().settings.state_dir / "logs" / "bench-ingest.log").open("ab")
    process = subprocess.Popen([sys.executable, "-m", "services.ingest"], env=env, stdout=log, stderr=subprocess.STDOUT)
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{BENCH_INGEST_PORT}/readyz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise SystemExit("the ingest service did not become ready; see .aios/logs/bench-ingest.log")


def main(
    duration_s: float = typer.Option(8.0, help="Seconds per measurement."),
    levels: str = typer.Option("1,4,16,64", help="Concurrency levels, comma separated."),
) -> None:
    console = Console()
    stack = LocalStack()
    with console.status("starting the stack"):
        stack.up()
    endpoints = stack.endpoints()
    connection = ConnectionSettings(
        kafka_bootstrap=endpoints["kafka_bootstrap"], schema_registry_url=endpoints["schema_registry_url"]
    )
    tenant = asyncio.run(new_tenant(connection))
    ingest = start_ingest(connection)
    try:
        with console.status("ingest edge vs raw producer"):
            result = asyncio.run(
                run_ingest_bench(
                    f"http://127.0.0.1:{BENCH_INGEST_PORT}",
                    tenant.api_key,
                    tenant.tenant_id,
                    connection,
                    tuple(int(level) for level in levels.split(",")),
                    duration_s,
                )
            )
    finally:
        ingest.terminate()
        ingest.wait(timeout=30)
    image = project_root() / "docs" / "bench" / "ingest.png"
    plot(result, image)
    report = write_section("ingest", markdown(result, stamp("make bench"), "bench/ingest.png"))
    console.print(f"wrote {report} and {image}")


if __name__ == "__main__":
    typer.run(main)
