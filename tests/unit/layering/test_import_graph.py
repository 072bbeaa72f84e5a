"""The package graph of `aios` has no cycles, and nothing below the command line imports it or a service.

A cycle between two subpackages means neither can be understood, tested or replaced alone; the command
line and `services/` are the outermost layer, so a library that imports them has its layers upside down.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from aios.paths import project_root

PACKAGE = project_root() / "libs" / "aios"
OUTER_LAYER = ("aios.cli", "services")
"""Imported by nothing in `aios` outside `aios.cli` itself."""


def imports_of(path: Path) -> Iterator[tuple[str, int]]:
    """Absolute module names `path` imports (at any depth, lazy imports included), with their lines."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, node.lineno
        elif isinstance(node, ast.Import):
            yield from ((alias.name, node.lineno) for alias in node.names)


def subpackage(module: str) -> str | None:
    """`aios.kafka.loop` -> `kafka`; None for modules outside `aios` and for top-level modules (`aios.paths`)."""
    parts = module.split(".")
    if parts[0] != "aios" or len(parts) < 2 or not (PACKAGE / parts[1]).is_dir():
        return None
    return parts[1]


def package_graph(root: Path = PACKAGE) -> dict[str, dict[str, str]]:
    """Subpackage -> {imported subpackage: first place it is imported}."""
    graph: dict[str, dict[str, str]] = {}
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if len(relative.parts) < 2:
            continue
        source = relative.parts[0]
        for module, line in imports_of(path):
            target = subpackage(module)
            if target is not None and target != source:
                graph.setdefault(source, {}).setdefault(target, f"{relative}:{line}")
    return graph


def cycles(graph: dict[str, dict[str, str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph.get(node, {}):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while (member := stack.pop()) != node:
                component.append(member)
            if component:
                found.append(sorted([node, *component]))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles_between_subpackages() -> None:
    graph = package_graph()
    described = [
        " <-> ".join(component)
        + ": "
        + "; ".join(f"{a}->{b} at {graph[a][b]}" for a in component for b in component if b in graph.get(a, {}))
        for component in cycles(graph)
    ]
    assert not described, "import cycles:\n" + "\n".join(described)


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b": ""}, "b": {"c": ""}, "c": {"a": ""}, "d": {"a": ""}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b": ""}, "b": {}}) == []


def test_only_the_command_line_imports_the_outer_layer() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE)}:{line} imports {module}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.relative_to(PACKAGE).parts[0] != "cli"
        for module, line in imports_of(path)
        if any(module == outer or module.startswith(outer + ".") for outer in OUTER_LAYER)
    ]
    assert not offenders, "\n".join(offenders)
