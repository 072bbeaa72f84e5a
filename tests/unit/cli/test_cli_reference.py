"""The README's CLI reference is the `aios` app's own list of commands."""

from __future__ import annotations

from aios.cli.reference import commands, markdown_table
from aios.paths import project_root


def test_every_command_is_listed_once_with_its_help() -> None:
    listed = list(commands())
    paths = [path for path, _ in listed]
    assert len(paths) == len(set(paths))
    assert {"aios demo", "aios model train", "aios stack up", "aios audit verify"} <= set(paths)
    assert all(summary for _, summary in listed), [path for path, summary in listed if not summary]


def test_the_readme_holds_the_current_table() -> None:
    """After adding or changing a command: `python -m aios.cli.reference` and paste into README.md."""
    assert markdown_table() in (project_root() / "README.md").read_text()
