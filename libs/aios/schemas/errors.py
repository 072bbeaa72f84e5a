"""Errors about schemas: registration and encoding."""

from aios.errors import AiosError


class SchemaRegistrationError(AiosError):
    """A schema could not be registered (incompatible, or the registry is unreachable)."""


class RecordEncodingError(AiosError):
    """A value does not fit its topic's schema; raised before anything is produced."""


class SchemaCodegenError(AiosError):
    """A schema uses something the record types cannot express, or names one type two ways."""
