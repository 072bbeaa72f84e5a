"""Compatibility levels and schema normalisation on real Avro schema pairs, without a server."""

from __future__ import annotations

import json
from typing import Any

import pytest

from aios.schema_registry.compatibility import (
    CompatibilityLevel,
    ParsedSchema,
    check_compatibility,
    parse_level,
    parse_schema,
)
from aios.schema_registry.errors import InvalidCompatibilityLevelError, InvalidSchemaError

Level = CompatibilityLevel


def record(*fields: dict[str, Any], name: str = "User") -> ParsedSchema:
    return parse_schema(json.dumps({"type": "record", "name": name, "namespace": "aios.test", "fields": fields}))


ID = {"name": "id", "type": "long"}
EMAIL_REQUIRED = {"name": "email", "type": "string"}
EMAIL_OPTIONAL = {"name": "email", "type": ["null", "string"], "default": None}
EMAIL_WITH_DEFAULT = {"name": "email", "type": "string", "default": ""}

BASE = record(ID)
ADD_OPTIONAL = record(ID, EMAIL_OPTIONAL)
ADD_REQUIRED = record(ID, EMAIL_REQUIRED)
COUNT_INT = record({"name": "count", "type": "int"})
COUNT_LONG = record({"name": "count", "type": "long"})


def enum_record(*symbols: str) -> ParsedSchema:
    return record({"name": "status", "type": {"type": "enum", "name": "Status", "symbols": symbols}})


def compatible(level: Level, new: ParsedSchema, *old: ParsedSchema) -> bool:
    return not check_compatibility(level, new, list(enumerate(old, start=1)))


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        (Level.NONE, True),
        (Level.BACKWARD, True),
        (Level.FORWARD, True),
        (Level.FULL, True),
        (Level.FULL_TRANSITIVE, True),
    ],
)
def test_adding_an_optional_field_with_default_is_compatible_both_ways(level: Level, expected: bool) -> None:
    assert compatible(level, ADD_OPTIONAL, BASE) is expected


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        (Level.NONE, True),
        (Level.BACKWARD, False),
        (Level.BACKWARD_TRANSITIVE, False),
        (Level.FORWARD, True),
        (Level.FORWARD_TRANSITIVE, True),
        (Level.FULL, False),
    ],
)
def test_adding_a_required_field_breaks_backward_only(level: Level, expected: bool) -> None:
    assert compatible(level, ADD_REQUIRED, BASE) is expected


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        (Level.BACKWARD, True),
        (Level.FORWARD, False),
        (Level.FULL, False),
        (Level.NONE, True),
    ],
)
def test_removing_a_field_without_default_breaks_forward(level: Level, expected: bool) -> None:
    assert compatible(level, BASE, ADD_REQUIRED) is expected


def test_removing_a_field_that_had_a_default_is_fully_compatible() -> None:
    assert compatible(Level.FULL, BASE, record(ID, EMAIL_WITH_DEFAULT))


@pytest.mark.parametrize(
    ("level", "expected"),
    [(Level.BACKWARD, True), (Level.FORWARD, False), (Level.FULL, False)],
)
def test_int_to_long_is_a_backward_promotion(level: Level, expected: bool) -> None:
    assert compatible(level, COUNT_LONG, COUNT_INT) is expected


def test_long_to_int_is_only_forward() -> None:
    assert not compatible(Level.BACKWARD, COUNT_INT, COUNT_LONG)
    assert compatible(Level.FORWARD, COUNT_INT, COUNT_LONG)


@pytest.mark.parametrize(
    ("level", "expected"),
    [(Level.BACKWARD, True), (Level.FORWARD, False), (Level.FULL, False)],
)
def test_adding_an_enum_symbol_breaks_old_readers(level: Level, expected: bool) -> None:
    new, old = enum_record("NEW", "ACTIVE", "CLOSED"), enum_record("NEW", "ACTIVE")
    assert compatible(level, new, old) is expected


def test_enum_default_lets_old_readers_map_unknown_symbols() -> None:
    old = record(
        {
            "name": "status",
            "type": {
                "type": "enum",
                "name": "Status",
                "symbols": ["NEW", "ACTIVE"],
                "default": "NEW",
            },
        }
    )
    assert compatible(Level.FULL, enum_record("NEW", "ACTIVE", "CLOSED"), old)


def test_non_transitive_levels_only_look_at_the_latest_version() -> None:
    # v2 gave email a default; the candidate drops it again, which v1 data cannot satisfy.
    v1 = BASE
    v2 = record(ID, EMAIL_WITH_DEFAULT)
    candidate = ADD_REQUIRED
    assert compatible(Level.BACKWARD, candidate, v1, v2)
    assert not compatible(Level.BACKWARD_TRANSITIVE, candidate, v1, v2)
    assert not compatible(Level.FULL_TRANSITIVE, candidate, v1, v2)


def test_forward_transitive_checks_every_old_reader() -> None:
    v1 = ADD_REQUIRED
    v2 = record(ID, EMAIL_WITH_DEFAULT)
    assert compatible(Level.FORWARD, BASE, v1, v2)
    assert not compatible(Level.FORWARD_TRANSITIVE, BASE, v1, v2)


def test_reasons_name_the_version_and_the_problem() -> None:
    reasons = check_compatibility(Level.FULL, ADD_REQUIRED, [(3, BASE)])
    assert len(reasons) == 1
    assert "version 3" in reasons[0]
    assert "READER_FIELD_MISSING_DEFAULT_VALUE" in reasons[0]
    assert "email" in reasons[0]


def test_type_change_reason_mentions_both_types() -> None:
    reasons = check_compatibility(Level.BACKWARD, record({"name": "count", "type": "string"}), [(1, COUNT_INT)])
    assert any("TYPE_MISMATCH" in r and "string" in r and "int" in r for r in reasons)


def test_no_existing_versions_is_always_compatible() -> None:
    assert check_compatibility(Level.FULL_TRANSITIVE, ADD_REQUIRED, []) == []


def test_renamed_record_is_incompatible() -> None:
    assert not compatible(Level.BACKWARD, record(ID, name="Customer"), BASE)


def test_canonical_form_ignores_whitespace_and_key_order() -> None:
    compact = '{"type":"record","name":"User","namespace":"aios.test","fields":[{"name":"id","type":"long"}]}'
    spaced = """
        {
          "fields": [ { "type": "long", "name": "id" } ],
          "namespace": "aios.test",
          "name": "User",
          "type": "record"
        }
    """
    assert parse_schema(compact) == parse_schema(spaced) == BASE
    assert parse_schema(compact).fingerprint == parse_schema(spaced).fingerprint


def test_canonical_form_is_a_fixed_point() -> None:
    """What the registry stores parses back to itself, so a stored schema keeps its id."""
    schema = record(
        ID,
        EMAIL_OPTIONAL,
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    )
    assert parse_schema(schema.canonical).canonical == schema.canonical


def test_canonical_form_keeps_what_readers_need() -> None:
    canonical = json.loads(record(ID, EMAIL_OPTIONAL).canonical)
    assert canonical["fields"][1]["default"] is None
    assert "default" in canonical["fields"][1]


def test_defaults_and_field_order_make_different_schemas() -> None:
    assert record(ID, EMAIL_REQUIRED) != record(ID, EMAIL_WITH_DEFAULT)
    assert record(ID, EMAIL_REQUIRED) != record(EMAIL_REQUIRED, ID)


def test_primitive_schemas_are_valid() -> None:
    assert parse_schema('"string"').canonical == '"string"'


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        '{"type": "record", "name": "X"}',
        '{"type": "record", "name": "1X", "fields": [{"name": "a", "type": "int"}]}',
        '{"type": "enum", "name": "E", "symbols": ["A", "A"]}',
        '"nosuchtype"',
    ],
)
def test_invalid_schemas_raise_42201_with_the_parser_message(text: str) -> None:
    with pytest.raises(InvalidSchemaError) as caught:
        parse_schema(text)
    assert caught.value.error_code == 42201
    assert caught.value.http_status == 422
    assert caught.value.message.startswith("Invalid Avro schema: ")


def test_levels_parse_case_insensitively() -> None:
    assert parse_level("full_transitive") is Level.FULL_TRANSITIVE
    with pytest.raises(InvalidCompatibilityLevelError) as caught:
        parse_level("SIDEWAYS")
    assert caught.value.error_code == 42203


@pytest.mark.parametrize(
    ("level", "backward", "forward", "transitive"),
    [
        (Level.NONE, False, False, False),
        (Level.BACKWARD, True, False, False),
        (Level.BACKWARD_TRANSITIVE, True, False, True),
        (Level.FORWARD, False, True, False),
        (Level.FORWARD_TRANSITIVE, False, True, True),
        (Level.FULL, True, True, False),
        (Level.FULL_TRANSITIVE, True, True, True),
    ],
)
def test_level_properties(level: Level, backward: bool, forward: bool, transitive: bool) -> None:
    assert (level.checks_backward, level.checks_forward, level.transitive) == (
        backward,
        forward,
        transitive,
    )
