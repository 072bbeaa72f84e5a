"""`aios schemas`: register the topic schemas under `<topic>-value`; generate their Python types."""

from __future__ import annotations

import typer
from rich.console import Console

from aios.kafka.clients import registry_config
from aios.kafka.subjects import register_all
from aios.schemas import codegen
from aios.settings import ConnectionSettings

app = typer.Typer(no_args_is_help=True, help=__doc__)


@app.command()
def register() -> None:
    """Register every topic's schema (existing versions are a no-op; incompatible ones fail)."""
    console = Console()
    for subject, schema_id in register_all(registry_config(ConnectionSettings().schema_registry_url)).items():
        console.print(f"{subject:34} id {schema_id}")


@app.command("codegen")
def codegen_command(
    check: bool = typer.Option(False, "--check", help="Only say whether the module is up to date (exit 1 if not)."),
) -> None:
    """Regenerate aios/schemas/records.py, the Python types of the records, from schemas/*.avsc."""
    console = Console()
    if check:
        if codegen.RECORDS_MODULE.read_text() != codegen.generate(codegen.schema_files()):
            console.print(f"{codegen.RECORDS_MODULE} is stale: run `aios schemas codegen`", soft_wrap=True)
            raise typer.Exit(1)
        console.print(f"{codegen.RECORDS_MODULE} is up to date")
        return
    console.print(f"wrote {codegen.write()}")
