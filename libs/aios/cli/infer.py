"""`aios infer`: the model endpoint's OpenAPI document (committed as docs/infer-openapi.json)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from aios.paths import project_root

app = typer.Typer(no_args_is_help=True, help=__doc__)

OPENAPI_PATH = Path("docs") / "infer-openapi.json"


def openapi_document() -> str:
    from aios.infer.app import create_api

    return json.dumps(create_api().openapi(), indent=2, sort_keys=True) + "\n"


@app.command()
def openapi(write: bool = typer.Option(False, "--write", help=f"Write {OPENAPI_PATH} instead of printing.")) -> None:
    """Print (or write) the OpenAPI document of the model endpoint."""
    document = openapi_document()
    if write:
        (project_root() / OPENAPI_PATH).write_text(document)
    else:
        typer.echo(document, nl=False)
