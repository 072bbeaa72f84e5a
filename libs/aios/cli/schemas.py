"""`aios schemas`: register the topic schemas in the registry under `<topic>-value`."""

from __future__ import annotations

import typer
from rich.console import Console

from aios.schemas.catalog import register_all
from aios.settings import ConnectionSettings

app = typer.Typer(no_args_is_help=True, help=__doc__)


@app.command()
def register() -> None:
    """Register every topic's schema (existing versions are a no-op; incompatible ones fail)."""
    console = Console()
    for subject, schema_id in register_all(ConnectionSettings().schema_registry_url).items():
        console.print(f"{subject:34} id {schema_id}")
