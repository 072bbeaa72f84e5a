"""Avro schema parsing, normalisation and compatibility rules, free of I/O so they test alone.

Levels follow Confluent: BACKWARD means the new schema, as reader, can read data written with the
latest existing version; FORWARD means the latest version, as reader, can read data written with
the new schema; FULL is both; the *_TRANSITIVE levels check every existing version, not only the
latest.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import avro.errors
import avro.schema
from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType

from aios.schema_registry.errors import InvalidCompatibilityLevelError, InvalidSchemaError


class CompatibilityLevel(StrEnum):
    NONE = "NONE"
    BACKWARD = "BACKWARD"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"
    FORWARD = "FORWARD"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"
    FULL = "FULL"
    FULL_TRANSITIVE = "FULL_TRANSITIVE"

    @property
    def checks_backward(self) -> bool:
        return self.startswith(("BACKWARD", "FULL"))

    @property
    def checks_forward(self) -> bool:
        return self.startswith(("FORWARD", "FULL"))

    @property
    def transitive(self) -> bool:
        return self.endswith("_TRANSITIVE")


def parse_level(text: str) -> CompatibilityLevel:
    """The level named by `text` (case-insensitive, as Confluent accepts), else 42203."""
    try:
        return CompatibilityLevel(text.upper())
    except ValueError:
        raise InvalidCompatibilityLevelError(text) from None


@dataclass(frozen=True)
class ParsedSchema:
    """A valid Avro schema in normal form; equal normal forms mean the same registered schema."""

    canonical: str
    """Compact JSON with sorted keys; unlike Avro's Parsing Canonical Form it keeps defaults,
    docs, aliases and logical types, which readers and compatibility checks need."""
    fingerprint: str
    """SHA-256 of `canonical`, the deduplication key of stored schemas."""
    schema: avro.schema.Schema = field(compare=False, repr=False)


@functools.lru_cache(maxsize=1024)
def parse_schema(text: str) -> ParsedSchema:
    """Validate and normalise an Avro schema; cached because stored schemas are re-read often."""
    try:
        schema = avro.schema.parse(text)
    except avro.errors.AvroException as exc:
        raise InvalidSchemaError(f"Invalid Avro schema: {exc}") from exc
    canonical = json.dumps(schema.to_json(), sort_keys=True, separators=(",", ":"))
    fingerprint = hashlib.sha256(canonical.encode()).hexdigest()
    return ParsedSchema(canonical=canonical, fingerprint=fingerprint, schema=schema)


def reader_writer_problems(reader: ParsedSchema, writer: ParsedSchema) -> list[str]:
    """Why `reader` cannot decode data written with `writer`; empty when it can."""
    result = ReaderWriterCompatibilityChecker().get_compatibility(reader.schema, writer.schema)
    if result.compatibility is not SchemaCompatibilityType.incompatible:
        return []
    kinds = ", ".join(sorted({kind.value.upper() for kind in result.incompatibilities}))
    details = "; ".join(sorted(result.messages))
    locations = ", ".join(sorted(result.locations))
    return [f"{kinds}: {details} (at {locations})"]


def check_compatibility(
    level: CompatibilityLevel,
    candidate: ParsedSchema,
    existing: Sequence[tuple[int, ParsedSchema]],
) -> list[str]:
    """Reasons `candidate` may not follow `existing` (version, schema) pairs, oldest first.

    An empty list means compatible. Non-transitive levels only look at the last pair, so
    passing a single version checks against exactly that version.
    """
    targets = existing if level.transitive else existing[-1:]
    reasons: list[str] = []
    for version, old in targets:
        if level.checks_backward:
            reasons.extend(
                f"new schema cannot read data written with version {version}: {problem}"
                for problem in reader_writer_problems(candidate, old)
            )
        if level.checks_forward:
            reasons.extend(
                f"version {version} cannot read data written with the new schema: {problem}"
                for problem in reader_writer_problems(old, candidate)
            )
    return reasons
