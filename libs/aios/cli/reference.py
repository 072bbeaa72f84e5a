"""The README's CLI reference, made from the `aios` app itself so the two cannot drift apart.

`python -m aios.cli.reference` prints the Markdown table; a unit test checks the README holds it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import typer
import typer.main

from aios.cli.main import app


def commands() -> Iterator[tuple[str, str]]:
    """Every runnable `aios` command, in the app's order, with the first line of its help."""
    root = typer.main.get_command(app)

    def walk(command: Any, path: str, context: Any) -> Iterator[tuple[str, str]]:
        if not hasattr(command, "list_commands"):
            yield path, (command.help or "").strip().splitlines()[0]
            return
        for name in command.list_commands(context):
            sub = command.get_command(context, name)
            yield from walk(sub, f"{path} {name}", type(context)(sub, parent=context))

    yield from walk(root, "aios", typer.Context(root))


def escape_pipes(text: str) -> str:
    return text.replace("|", "\\|")


def markdown_table() -> str:
    rows = [f"| `{path}` | {escape_pipes(summary)} |" for path, summary in commands()]
    return "\n".join(["| command | what it does |", "|---|---|", *rows])


if __name__ == "__main__":
    print(markdown_table())
