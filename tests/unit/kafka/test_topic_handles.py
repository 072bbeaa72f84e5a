"""Topic names and service ports are written once, in `infra/`; code holds handles and reads the catalogue."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

from aios.kafka import topics
from aios.kafka.topics import CATALOGUE, Topic, schema_bindings, topic_field
from aios.paths import project_root
from aios.runtime.catalog import load_services

CODE = ("libs", "services")


def _sources() -> list[Path]:
    return sorted(path for folder in CODE for path in (project_root() / folder).rglob("*.py"))


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the string constants that are docstrings (of modules, classes, functions, attributes)."""
    found = set()
    for node in ast.walk(tree):
        for statement in getattr(node, "body", []) if isinstance(getattr(node, "body", None), list) else []:
            if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
                found.add(id(statement.value))
    return found


def _literals(path: Path) -> Iterator[tuple[int, str | int]]:
    """(line, value) of every string and integer constant of `path` but its docstrings."""
    tree = ast.parse(path.read_text(), str(path))
    docstrings = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and id(node) not in docstrings and isinstance(node.value, str | int):
            yield node.lineno, node.value


def _names_a_topic(value: str) -> bool:
    """True for a catalogue topic's name, alone or followed by a non-name character (`aios.decisions#0`)."""
    for name in CATALOGUE.names():
        if value.startswith(name) and (
            len(value) == len(name) or not (value[len(name)].isalnum() or value[len(name)] in "._")
        ):
            return True
    return False


def test_every_catalogue_topic_has_one_handle() -> None:
    handles = [value for value in vars(topics).values() if isinstance(value, Topic)]
    assert sorted(handle.name for handle in handles) == sorted(CATALOGUE.names())
    assert topics.DECISIONS.value_schema == "decision"


def test_no_topic_name_is_written_in_code() -> None:
    """infra/topics.yaml is the only place; code uses `aios.kafka.topics`' handles (tests aside)."""
    found = [
        f"{path.relative_to(project_root())}:{line}: {value!r}"
        for path in _sources()
        for line, value in _literals(path)
        if isinstance(value, str) and _names_a_topic(value)
    ]
    assert not found, "topic names written in code; use the handles of aios.kafka.topics:\n" + "\n".join(found)


def test_no_service_port_is_written_in_code() -> None:
    """infra/services.yaml is the only place a service's port or metrics port is written."""
    ports = {port for spec in load_services() for port in (spec.port, spec.metrics_port)}
    found = [
        f"{path.relative_to(project_root())}:{line}: {value!r}"
        for path in _sources()
        for line, value in _literals(path)
        if (isinstance(value, int) and value in ports)
        or (isinstance(value, str) and any(f":{port}" in value for port in ports))
    ]
    assert not found, "service ports written in code; read them from aios.runtime.catalog.service:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "value", ["aios.decisions", "aios.deadletter", "aios.actions.executed#0", "aios.events.received "]
)
def test_the_check_sees_topic_names(value: str) -> None:
    assert _names_a_topic(value)


@pytest.mark.parametrize(
    "value", ["aios.ingest.app:create_app", "aios.event_id", "aios.link", "aios.decisions_v2", "aios.decide.gaps"]
)
def test_the_check_leaves_module_paths_and_attributes_alone(value: str) -> None:
    assert not _names_a_topic(value)


class _Settings(BaseSettings):
    source: str = topic_field(topics.EVENTS_ENRICHED, "What is read.")
    sink: str = topic_field(topics.DECISIONS, "What is written.")
    other: str = "not a topic"


def test_a_renamed_topic_keeps_its_handles_schema() -> None:
    assert _Settings().source == topics.EVENTS_ENRICHED.name
    renamed = _Settings(source="test.enriched.1")
    assert schema_bindings(renamed) == {
        "test.enriched.1": topics.EVENTS_ENRICHED.name,
        topics.DECISIONS.name: topics.DECISIONS.name,
    }
