"""Errors of the database layer: reaching PostgreSQL and bringing its schema up to date."""

from aios.errors import AiosError


class DatabaseError(AiosError):
    """PostgreSQL could not be used as AIOS needs it."""


class DatabaseUnavailableError(DatabaseError):
    """No connection could be opened: server down, wrong address, database or credentials."""


class MigrationError(DatabaseError):
    """A migration file is malformed, failed to apply, or disagrees with what the database recorded."""
