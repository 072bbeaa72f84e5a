"""Every schema in schemas/ reads all data written with its released versions (BACKWARD_TRANSITIVE)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aios.paths import schemas_dir
from aios.schema_registry.compatibility import CompatibilityLevel, check_compatibility, parse_schema

CURRENT = sorted(schemas_dir().glob("*.avsc"))
RELEASED = schemas_dir() / "released"


def released_versions(stem: str) -> list[tuple[int, Path]]:
    return sorted((int(p.stem.removeprefix("v")), p) for p in (RELEASED / stem).glob("v*.avsc"))


@pytest.mark.parametrize("path", CURRENT, ids=lambda p: p.stem)
def test_schema_reads_every_released_version(path: Path) -> None:
    versions = released_versions(path.stem)
    assert versions, f"{path.name} has never been released: copy it to released/{path.stem}/v1.avsc"
    existing = [(number, parse_schema(p.read_text())) for number, p in versions]
    problems = check_compatibility(CompatibilityLevel.BACKWARD_TRANSITIVE, parse_schema(path.read_text()), existing)
    assert problems == []


def test_the_check_refuses_a_required_field_added_without_default() -> None:
    """The guard above can fail: a field old records lack, with no default, is refused."""
    path = schemas_dir() / "event_received.avsc"
    changed = json.loads(path.read_text())
    changed["fields"].append({"name": "priority", "type": "int"})
    existing = [(1, parse_schema((RELEASED / "event_received" / "v1.avsc").read_text()))]
    problems = check_compatibility(CompatibilityLevel.BACKWARD, parse_schema(json.dumps(changed)), existing)
    assert problems and "priority" in problems[0]


@pytest.mark.parametrize("path", CURRENT, ids=lambda p: p.stem)
def test_every_record_carries_identity_time_and_trace(path: Path) -> None:
    schema = json.loads(path.read_text())
    fields = {field["name"]: field for field in schema["fields"]}
    assert schema["namespace"] == "aios"
    assert {"event_id", "tenant_id", "occurred_at", "trace"} <= fields.keys()
    assert fields["occurred_at"]["type"] == {"type": "long", "logicalType": "timestamp-millis"}
