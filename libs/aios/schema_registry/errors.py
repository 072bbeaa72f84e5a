"""Registry errors, each carrying the Confluent `error_code` and HTTP status clients branch on.

confluent-kafka's `SchemaRegistryError` exposes both numbers, so they must match Confluent's.
"""

from __future__ import annotations

from collections.abc import Sequence

from aios.errors import AiosError


class RegistryError(AiosError):
    """An error the REST API reports as `{"error_code": ..., "message": ...}`."""

    error_code: int = 50001
    http_status: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SubjectNotFoundError(RegistryError):
    """The subject has no version (live ones, unless deleted ones were asked for)."""

    error_code = 40401
    http_status = 404

    def __init__(self, subject: str) -> None:
        super().__init__(f"Subject '{subject}' not found.")


class VersionNotFoundError(RegistryError):
    """The subject exists but not with this version."""

    error_code = 40402
    http_status = 404

    def __init__(self, subject: str, version: int) -> None:
        super().__init__(f"Version {version} not found for subject '{subject}'.")


class SchemaNotFoundError(RegistryError):
    """No schema has this id, or the subject does not hold this schema."""

    error_code = 40403
    http_status = 404


class SubjectSoftDeletedError(RegistryError):
    """Soft deleting a subject that already is."""

    error_code = 40404
    http_status = 404

    def __init__(self, subject: str) -> None:
        super().__init__(f"Subject '{subject}' was soft deleted. Set permanent=true to delete permanently.")


class SubjectNotSoftDeletedError(RegistryError):
    """Hard deleting a subject that still has live versions."""

    error_code = 40405
    http_status = 404

    def __init__(self, subject: str) -> None:
        super().__init__(f"Subject '{subject}' was not deleted first before being permanently deleted.")


class VersionSoftDeletedError(RegistryError):
    """Soft deleting a version that already is."""

    error_code = 40406
    http_status = 404

    def __init__(self, subject: str, version: int) -> None:
        super().__init__(
            f"Version {version} of subject '{subject}' was soft deleted. Set permanent=true to delete permanently."
        )


class VersionNotSoftDeletedError(RegistryError):
    """Hard deleting a version that was not soft deleted first."""

    error_code = 40407
    http_status = 404

    def __init__(self, subject: str, version: int) -> None:
        super().__init__(
            f"Version {version} of subject '{subject}' must be soft deleted first before being permanently deleted."
        )


class SubjectCompatibilityNotConfiguredError(RegistryError):
    """The subject follows the global level; it has none of its own."""

    error_code = 40408
    http_status = 404

    def __init__(self, subject: str) -> None:
        super().__init__(f"Subject '{subject}' does not have subject-level compatibility configured.")


class IncompatibleSchemaError(RegistryError):
    """The schema breaks the subject's compatibility level; says which way and why."""

    error_code = 409
    http_status = 409

    def __init__(self, subject: str, reasons: Sequence[str]) -> None:
        super().__init__(
            f"Schema being registered is incompatible with an earlier schema for subject "
            f"'{subject}', details: [{'; '.join(reasons)}]"
        )
        self.reasons = list(reasons)


class InvalidSchemaError(RegistryError):
    """Not a valid Avro schema, or uses a feature this registry does not offer."""

    error_code = 42201
    http_status = 422


class InvalidVersionError(RegistryError):
    """A version that is neither a positive 32-bit number nor `latest`."""

    error_code = 42202
    http_status = 422

    def __init__(self, version: str) -> None:
        super().__init__(
            f"The specified version '{version}' is not a valid version id. "
            'Allowed values are between [1, 2^31-1] and the string "latest".'
        )


class InvalidCompatibilityLevelError(RegistryError):
    """Not one of the seven Confluent compatibility levels."""

    error_code = 42203
    http_status = 422

    def __init__(self, level: str) -> None:
        super().__init__(f"Invalid compatibility level: '{level}'.")
