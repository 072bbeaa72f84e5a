"""`aios topics`: apply the catalogue in infra/topics.yaml to the cluster."""

from __future__ import annotations

import typer
from rich.console import Console

from aios.kafka.clients import kafka_config
from aios.kafka.topics import apply_topics, load_catalogue
from aios.settings import ConnectionSettings

app = typer.Typer(no_args_is_help=True, help=__doc__)


@app.command()
def apply() -> None:
    """Create missing topics, raise partition counts and align configs (idempotent)."""
    console = Console()
    for change in apply_topics(kafka_config(ConnectionSettings().kafka_bootstrap), load_catalogue().topics):
        console.print(f"{change.topic:28} {change.action} {change.detail}")


@app.command("list")
def list_topics() -> None:
    """The declared topics and what they carry."""
    console = Console()
    for spec in load_catalogue().topics:
        console.print(f"{spec.name:28} {spec.partitions:>3}p  {spec.value_schema:18} {spec.description}")
