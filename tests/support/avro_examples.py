"""Valid example values for any Avro schema, so every schema can be exercised without fixtures."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

EXAMPLE_TIME = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def example_value(schema: Any, named: dict[str, Any] | None = None) -> Any:
    """A deterministic value of `schema` (parsed JSON) that uses every field."""
    named = {} if named is None else named
    if isinstance(schema, str):
        return _primitive(schema, named)
    if isinstance(schema, list):
        branches = [b for b in schema if b != "null"]
        return example_value(branches[0], named) if branches else None
    kind = schema["type"]
    logical = schema.get("logicalType")
    if logical == "timestamp-millis":
        return EXAMPLE_TIME
    if kind == "record":
        named[schema["name"]] = schema
        if "namespace" in schema:
            named[f"{schema['namespace']}.{schema['name']}"] = schema
        return {field["name"]: example_value(field["type"], named) for field in schema["fields"]}
    if kind == "enum":
        named[schema["name"]] = schema
        return schema["symbols"][0]
    if kind == "array":
        return [example_value(schema["items"], named)]
    if kind == "map":
        return {"key": example_value(schema["values"], named)}
    if kind == "fixed":
        return b"\x01" * schema["size"]
    return _primitive(kind, named)


def _primitive(name: str, named: dict[str, Any]) -> Any:
    values: dict[str, Any] = {
        "string": "example",
        "int": 7,
        "long": 7,
        "float": 0.5,
        "double": 0.25,
        "boolean": True,
        "bytes": b"\x00\x01",
        "null": None,
    }
    if name in values:
        return values[name]
    return example_value(named[name], named)
