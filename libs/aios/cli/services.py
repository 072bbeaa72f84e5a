"""`aios up / down / ps`: the stack plus every service in infra/services.yaml, supervised."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from aios.runtime.supervisor import Supervisor, start_services
from aios.stack.stack import LocalStack

console = Console()


def up(brokers: int | None = typer.Option(None, "--brokers", help="Kafka brokers: 1 or 3.")) -> None:
    """Start the stack, then every service as a supervised background process."""
    stack = LocalStack(brokers=brokers)
    with console.status("starting the local stack") as status:
        stack.up(on_step=lambda step: status.update(step))
    start_services(stack)
    ps()


def down() -> None:
    """Stop the services (SIGTERM: each finishes its batch and commits), then the stack."""
    Supervisor().shutdown()
    LocalStack().down()
    console.print("services and stack stopped")


def ps() -> None:
    """Each service process: state, pid, port, health and log file."""
    table = Table("service", "state", "pid", "port", "health", "log")
    for row in Supervisor().status():
        health = "[green]ok[/]" if row.healthy else "[red]failing[/]"
        table.add_row(row.name, row.state, str(row.pid or ""), str(row.port), health, row.log_file)
    console.print(table if table.row_count else "no services running (aios up starts them)")
