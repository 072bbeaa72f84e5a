"""Python types for the records of `schemas/*.avsc`: writes `aios/schemas/records.py`.

Each Avro record becomes a frozen dataclass with `from_avro` (a value as fastavro decodes it) and
`to_avro` (a value fastavro encodes), so services handle typed records while the wire format stays
what fastavro reads and writes. The field types are what fastavro's decoder returns: enums are
`Literal` strings, `timestamp-millis` an aware `datetime`, maps dicts, arrays lists, `["null", T]`
unions `T | None`. A named type written in several files must be the same everywhere.

The output is formatted as ruff formats it; `tests/unit/schemas/test_codegen.py` fails when the
file differs from what this module generates, and `aios schemas codegen` rewrites it.
"""

from __future__ import annotations

import json
import keyword
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aios.paths import schemas_dir
from aios.schemas.errors import SchemaCodegenError

RECORDS_MODULE = Path(__file__).with_name("records.py")
LINE_LENGTH = 120

Convert = Callable[[str, int], str]
"""Given an expression and a nesting depth, the expression converted (identity for plain values)."""

_PRIMITIVES = {
    "null": "None",
    "boolean": "bool",
    "int": "int",
    "long": "int",
    "float": "float",
    "double": "float",
    "bytes": "bytes",
    "string": "str",
}
_LOGICAL = {
    "timestamp-millis": ("datetime", "datetime"),
    "timestamp-micros": ("datetime", "datetime"),
    "local-timestamp-millis": ("datetime", "datetime"),
    "local-timestamp-micros": ("datetime", "datetime"),
    "date": ("datetime", "date"),
    "time-millis": ("datetime", "time"),
    "time-micros": ("datetime", "time"),
    "uuid": ("uuid", "UUID"),
    "decimal": ("decimal", "Decimal"),
}
"""Logical types fastavro decodes to Python objects; others read as their underlying type."""


def _identity(expression: str, depth: int) -> str:
    return expression


@dataclass(frozen=True)
class _PyType:
    annotation: str
    from_avro: Convert = _identity
    to_avro: Convert = _identity
    optional: bool = False
    """A union with null whose other branch needs converting: `from_avro` reads the value into a local first."""

    @property
    def plain(self) -> bool:
        return self.from_avro is _identity and self.to_avro is _identity


@dataclass(frozen=True)
class _Field:
    name: str
    type: _PyType
    doc: str | None
    has_default: bool
    default: Any


@dataclass(frozen=True)
class _Record:
    name: str
    fullname: str
    doc: str | None
    fields: tuple[_Field, ...]


@dataclass(frozen=True)
class _Enum:
    name: str
    fullname: str
    doc: str | None
    symbols: tuple[str, ...]


class _Collector:
    """Walks the schemas, keeping each named type once, after the types it uses."""

    def __init__(self) -> None:
        self.named: dict[str, _Record | _Enum | _PyType] = {}
        self.order: list[_Record | _Enum] = []
        self.definitions: dict[str, tuple[Any, str]] = {}
        self.imports: set[tuple[str, str]] = set()

    def type_of(self, schema: Any, namespace: str, origin: str) -> _PyType:
        if isinstance(schema, str):
            if schema in _PRIMITIVES:
                return _PyType(_PRIMITIVES[schema])
            return self._reference(schema, namespace, origin)
        if isinstance(schema, list):
            return self._union(schema, namespace, origin)
        if not isinstance(schema, dict):
            raise SchemaCodegenError(f"{origin}: not an Avro schema: {schema!r}")
        kind = schema.get("type")
        if kind in ("record", "error", "enum", "fixed"):
            return self._define(schema, namespace, origin)
        logical = self._logical(schema)
        if logical is not None:
            return logical
        if kind == "array":
            return _array(self.type_of(schema["items"], namespace, origin))
        if kind == "map":
            return _map(self.type_of(schema["values"], namespace, origin))
        return self.type_of(kind, namespace, origin)

    def _logical(self, schema: dict[str, Any]) -> _PyType | None:
        if schema.get("logicalType") not in _LOGICAL:
            return None
        module, name = _LOGICAL[schema["logicalType"]]
        self.imports.add((module, name))
        return _PyType(name)

    def _reference(self, name: str, namespace: str, origin: str) -> _PyType:
        fullname = name if "." in name else f"{namespace}.{name}" if namespace else name
        found = self.named.get(fullname)
        if found is None:
            raise SchemaCodegenError(f"{origin}: unknown type {name!r}")
        return _as_type(found)

    def _union(self, branches: list[Any], namespace: str, origin: str) -> _PyType:
        others = [b for b in branches if b != "null"]
        if len(others) != 1 or len(branches) != 2:
            raise SchemaCodegenError(f"{origin}: only unions of null and one type are supported, not {branches!r}")
        inner = self.type_of(others[0], namespace, origin)
        if inner.plain:
            return _PyType(f"{inner.annotation} | None")

        def optional(convert: Convert) -> Convert:
            return lambda e, d: f"None if {e} is None else {convert(e, d)}"

        return _PyType(f"{inner.annotation} | None", optional(inner.from_avro), optional(inner.to_avro), optional=True)

    def _define(self, schema: dict[str, Any], namespace: str, origin: str) -> _PyType:
        name = schema["name"]
        space = schema.get("namespace", namespace) if "." not in name else name.rpartition(".")[0]
        short = name.rpartition(".")[2]
        fullname = f"{space}.{short}" if space else short
        seen = self.definitions.get(fullname)
        if seen is not None:
            if seen[0] != schema:
                raise SchemaCodegenError(f"{fullname} is defined differently in {seen[1]} and {origin}")
            return _as_type(self.named[fullname])
        clash = next((n for n in self.named if n.rpartition(".")[2] == short), None)
        if clash is not None:
            raise SchemaCodegenError(f"{origin}: {fullname} and {clash} would both be the Python name {short}")
        self.definitions[fullname] = (schema, origin)
        kind = schema["type"]
        if kind == "fixed":
            fixed = self.named[fullname] = self._logical(schema) or _PyType("bytes")
            return fixed
        if kind == "enum":
            enum = _Enum(short, fullname, schema.get("doc"), tuple(schema["symbols"]))
            self.named[fullname] = enum
            self.order.append(enum)
            return _as_type(enum)
        # Registered before its fields so that a field may refer to its own record.
        self.named[fullname] = _Record(short, fullname, schema.get("doc"), ())
        fields = tuple(self._field(f, space, f"{origin}: {fullname}") for f in schema["fields"])
        record = self.named[fullname] = _Record(short, fullname, schema.get("doc"), fields)
        self.order.append(record)
        return _as_type(record)

    def _field(self, schema: dict[str, Any], namespace: str, origin: str) -> _Field:
        if keyword.iskeyword(schema["name"]) or schema["name"] in ("cls", "value"):
            raise SchemaCodegenError(f"{origin}.{schema['name']}: the field name cannot be a Python name here")
        field_type = self.type_of(schema["type"], namespace, f"{origin}.{schema['name']}")
        has_default = "default" in schema
        if has_default and field_type.annotation in {name for _, name in _LOGICAL.values()}:
            raise SchemaCodegenError(f"{origin}.{schema['name']}: defaults of logical types are not supported")
        return _Field(schema["name"], field_type, schema.get("doc"), has_default, schema.get("default"))


def _as_type(named: _Record | _Enum | _PyType) -> _PyType:
    if isinstance(named, _PyType):
        return named
    if isinstance(named, _Enum):
        return _PyType(named.name)
    name = named.name
    return _PyType(name, lambda e, d: f"{name}.from_avro({e})", lambda e, d: f"{e}.to_avro()")


def _array(items: _PyType) -> _PyType:
    if items.plain:
        return _PyType(f"list[{items.annotation}]")

    def each(convert: Convert) -> Convert:
        return lambda e, d: f"[{convert(_var(d), d + 1)} for {_var(d)} in {e}]"

    return _PyType(f"list[{items.annotation}]", each(items.from_avro), each(items.to_avro))


def _map(values: _PyType) -> _PyType:
    if values.plain:
        return _PyType(f"dict[str, {values.annotation}]")

    def each(convert: Convert) -> Convert:
        return lambda e, d: f"{{key{d or ''}: {convert(_var(d), d + 1)} for key{d or ''}, {_var(d)} in {e}.items()}}"

    return _PyType(f"dict[str, {values.annotation}]", each(values.from_avro), each(values.to_avro))


def _var(depth: int) -> str:
    return f"item{depth or ''}"


def generate(paths: Iterable[Path]) -> str:
    """The source of the records module for the given `.avsc` files (in the order given)."""
    collector = _Collector()
    for path in paths:
        collector.type_of(json.loads(path.read_text()), "", path.name)
    body: list[str] = []
    for named in collector.order:
        # Two blank lines between definitions; isort wants one between the imports and an assignment.
        body += [""] if not body and isinstance(named, _Enum) else ["", ""]
        body += _enum_lines(named) if isinstance(named, _Enum) else _record_lines(named)
    imports = set(collector.imports)
    if any(isinstance(named, _Record) for named in collector.order):
        imports |= {("collections.abc", "Mapping"), ("dataclasses", "dataclass"), ("typing", "Any"), ("typing", "Self")}
    if any(isinstance(named, _Enum) for named in collector.order):
        imports.add(("typing", "Literal"))
    if any("field(default_factory" in line for line in body):
        imports.add(("dataclasses", "field"))
    modules = sorted({module for module, _ in imports})
    header = [
        "# Generated by `aios schemas codegen` (aios.schemas.codegen) from schemas/*.avsc: do not edit.",
        '"""The Avro records of the topics as Python types: `X.from_avro(decoded)` and `x.to_avro()`."""',
        "",
        "from __future__ import annotations",
        "",
        *(f"from {m} import {', '.join(sorted(n for mm, n in imports if mm == m))}" for m in modules),
    ]
    too_long = next((line for line in body if len(line) > LINE_LENGTH), None)
    if too_long is not None:
        raise SchemaCodegenError(f"a generated line is longer than {LINE_LENGTH} characters: {too_long.strip()}")
    return "\n".join(header + body) + "\n"


def _enum_lines(enum: _Enum) -> list[str]:
    symbols = ", ".join(json.dumps(s) for s in enum.symbols)
    line = f"{enum.name} = Literal[{symbols}]"
    if len(line) > LINE_LENGTH:
        line = f"{enum.name} = Literal[\n" + "".join(f"    {json.dumps(s)},\n" for s in enum.symbols) + "]"
    return [line, *_docstring(enum.doc or f"The Avro enum {enum.fullname}.", "")]


def _record_lines(record: _Record) -> list[str]:
    lines = [
        "@dataclass(frozen=True, slots=True, kw_only=True)",
        f"class {record.name}:",
        *_docstring(record.doc or f"The Avro record {record.fullname}.", "    "),
        "",
    ]
    for f in record.fields:
        lines.append(f"    {f.name}: {f.type.annotation}{_default(f)}")
        if f.doc:
            lines += _docstring(f.doc, "    ")
    lines += [
        "",
        "    @classmethod",
        "    def from_avro(cls, value: Mapping[str, Any]) -> Self:",
    ]
    # A union's value is read once, into a local named as the field, then tested and converted.
    lines += [f"        {f.name} = {_read(f)}" for f in record.fields if f.type.optional]
    lines.append("        return cls(")
    for f in record.fields:
        lines.append(f"            {f.name}={f.type.from_avro(f.name if f.type.optional else _read(f), 0)},")
    lines += ["        )", "", "    def to_avro(self) -> dict[str, Any]:", "        return {"]
    lines += [f'            "{f.name}": {f.type.to_avro(f"self.{f.name}", 0)},' for f in record.fields]
    lines.append("        }")
    return lines


def _default(f: _Field) -> str:
    if not f.has_default:
        return ""
    plain = f.default is None or f.type.plain
    value = _literal(f.default) if plain else f.type.from_avro(_literal(f.default), 0)
    if f.default == {}:
        return " = field(default_factory=dict)"
    if f.default == []:
        return " = field(default_factory=list)"
    if isinstance(f.default, dict | list):
        return f" = field(default_factory=lambda: {value})"
    return f" = {value}"


def _read(f: _Field) -> str:
    """The field's value in a decoded record; the schema's default where it is missing, as Avro reads it."""
    if not f.has_default:
        return f'value["{f.name}"]'
    if f.default is None:
        return f'value.get("{f.name}")'
    return f'value.get("{f.name}", {_literal(f.default)})'


def _literal(value: Any) -> str:
    """A Python expression, as ruff formats it, for a JSON default."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_literal(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {_literal(v)}" for k, v in value.items()) + "}"
    return repr(value)


def _docstring(text: str, indent: str) -> list[str]:
    text = " ".join(text.split()).replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    if text.endswith('"'):
        text = text[:-1] + '\\"'
    lines = textwrap.wrap(text, LINE_LENGTH - len(indent) - 6)
    if len(lines) == 1:
        return [f'{indent}"""{text}"""']
    return [f'{indent}"""{lines[0]}', *(f"{indent}{line}" for line in lines[1:-1]), f'{indent}{lines[-1]}"""']


def schema_files() -> list[Path]:
    return sorted(schemas_dir().glob("*.avsc"))


def write() -> Path:
    """Regenerate the records module from `schemas/*.avsc`; its path."""
    RECORDS_MODULE.write_text(generate(schema_files()))
    return RECORDS_MODULE
