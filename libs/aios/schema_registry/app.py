"""The Confluent Schema Registry REST API (Avro only) over `RegistryStore`.

Paths, query parameters, response shapes and error codes follow Confluent's, so confluent-kafka's
`SchemaRegistryClient`, `AvroSerializer` and `AvroDeserializer` work against it unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from aios.schema_registry.auth import BasicAuthMiddleware, UsersFile
from aios.schema_registry.compatibility import ParsedSchema, parse_level, parse_schema
from aios.schema_registry.errors import (
    InvalidSchemaError,
    InvalidVersionError,
    RegistryError,
    SubjectCompatibilityNotConfiguredError,
)
from aios.schema_registry.settings import RegistrySettings
from aios.schema_registry.store import BACKEND_ERRORS, RegistryStore, SubjectVersion

logger = logging.getLogger(__name__)

MEDIA_TYPE = "application/vnd.schemaregistry.v1+json"
_MAX_VERSION = 2**31 - 1
_T = TypeVar("_T")


class RegistryJSONResponse(JSONResponse):
    """JSON under the registry's own media type, as Confluent answers."""

    media_type = MEDIA_TYPE


class SchemaRequest(BaseModel):
    """Body of register, lookup and compatibility requests; unknown properties are ignored."""

    schema_text: str = Field(alias="schema")
    schema_type: str | None = Field(default=None, alias="schemaType")
    references: list[dict[str, Any]] | None = None
    metadata: dict[str, Any] | None = None
    rule_set: dict[str, Any] | None = Field(default=None, alias="ruleSet")

    def parsed(self) -> ParsedSchema:
        """The Avro schema, refusing features this registry does not implement (42201)."""
        if (self.schema_type or "AVRO").upper() != "AVRO":
            raise InvalidSchemaError(f"Unsupported schema type '{self.schema_type}': this registry only stores AVRO.")
        if self.references:
            raise InvalidSchemaError("Schema references are not supported by this registry.")
        if self.metadata or self.rule_set:
            raise InvalidSchemaError(
                "Schema metadata and rule sets (data contracts) are not supported by this registry."
            )
        return parse_schema(self.schema_text)


class CompatibilityRequest(BaseModel):
    compatibility: str


def _store(request: Request) -> RegistryStore:
    store: RegistryStore = request.app.state.store
    return store


Store = Annotated[RegistryStore, Depends(_store)]
Deleted = Annotated[bool, Query(description="Include what was soft deleted.")]
Permanent = Annotated[bool, Query(description="Hard delete what was soft deleted before.")]


def _version(text: str) -> int | None:
    """A version path segment: a number in [1, 2^31-1], or None for `latest` / -1."""
    if text in ("latest", "-1"):
        return None
    try:
        version = int(text)
    except ValueError:
        raise InvalidVersionError(text) from None
    if not 1 <= version <= _MAX_VERSION:
        raise InvalidVersionError(text)
    return version


def _page(items: Sequence[_T], offset: int, limit: int) -> list[_T]:
    """Confluent's pagination: skip `offset`, keep `limit` unless it is not positive."""
    page = list(items[offset:])
    return page[:limit] if limit > 0 else page


def _subject_version(found: SubjectVersion) -> dict[str, Any]:
    return {
        "subject": found.subject,
        "version": found.version,
        "id": found.schema_id,
        "schema": found.schema,
    }


def _compatibility_answer(reasons: list[str], verbose: bool) -> dict[str, Any]:
    answer: dict[str, Any] = {"is_compatible": not reasons}
    if verbose:
        answer["messages"] = reasons
    return answer


router = APIRouter()


@router.get("/")
async def root() -> dict[str, str]:
    return {}


@router.get("/healthz")
async def healthz(store: Store) -> Response:
    """Healthy only when PostgreSQL answers, so the stack notices a lost database."""
    try:
        await store.ping()
    except BACKEND_ERRORS as exc:
        logger.warning("health check failed: %r", exc)
        return RegistryJSONResponse({"status": "unavailable", "error": repr(exc)}, 503)
    return RegistryJSONResponse({"status": "ok"})


# --- schemas -----------------------------------------------------------------------------------


@router.get("/schemas/types")
async def schema_types() -> list[str]:
    return ["AVRO"]


@router.get("/schemas/ids/{schema_id}")
async def schema_by_id(schema_id: int, store: Store) -> dict[str, str]:
    return {"schema": await store.schema(schema_id)}


@router.get("/schemas/ids/{schema_id}/schema")
async def raw_schema_by_id(schema_id: int, store: Store) -> Response:
    return Response(await store.schema(schema_id), media_type=MEDIA_TYPE)


@router.get("/schemas/ids/{schema_id}/subjects")
async def schema_subjects(
    schema_id: int, store: Store, deleted: Deleted = False, offset: int = 0, limit: int = -1
) -> list[str]:
    usages = await store.schema_usages(schema_id, deleted)
    return _page(sorted({subject for subject, _ in usages}), offset, limit)


@router.get("/schemas/ids/{schema_id}/versions")
async def schema_versions(
    schema_id: int, store: Store, deleted: Deleted = False, offset: int = 0, limit: int = -1
) -> list[dict[str, Any]]:
    usages = await store.schema_usages(schema_id, deleted)
    return _page([{"subject": s, "version": v} for s, v in usages], offset, limit)


# --- subjects ----------------------------------------------------------------------------------


@router.get("/subjects")
async def list_subjects(
    store: Store,
    subject_prefix: Annotated[str | None, Query(alias="subjectPrefix")] = None,
    deleted: Deleted = False,
    deleted_only: Annotated[bool, Query(alias="deletedOnly")] = False,
    offset: int = 0,
    limit: int = -1,
) -> list[str]:
    return _page(await store.subjects(subject_prefix, deleted, deleted_only), offset, limit)


@router.post("/subjects/{subject}")
async def lookup_schema(subject: str, body: SchemaRequest, store: Store, deleted: Deleted = False) -> dict[str, Any]:
    return _subject_version(await store.lookup(subject, body.parsed(), deleted))


@router.delete("/subjects/{subject}")
async def delete_subject(subject: str, store: Store, permanent: Permanent = False) -> list[int]:
    return await store.delete_subject(subject, permanent)


@router.get("/subjects/{subject}/versions")
async def list_versions(
    subject: str,
    store: Store,
    deleted: Deleted = False,
    deleted_only: Annotated[bool, Query(alias="deletedOnly")] = False,
    offset: int = 0,
    limit: int = -1,
) -> list[int]:
    return _page(await store.versions(subject, deleted, deleted_only), offset, limit)


@router.post("/subjects/{subject}/versions")
async def register_schema(subject: str, body: SchemaRequest, store: Store) -> dict[str, int]:
    """Idempotent: an identical schema returns its existing id without a new version."""
    return {"id": await store.register(subject, body.parsed())}


@router.get("/subjects/{subject}/versions/{version}")
async def get_version(subject: str, version: str, store: Store, deleted: Deleted = False) -> dict[str, Any]:
    return _subject_version(await store.version(subject, _version(version), deleted))


@router.get("/subjects/{subject}/versions/{version}/schema")
async def get_version_schema(subject: str, version: str, store: Store, deleted: Deleted = False) -> Response:
    found = await store.version(subject, _version(version), deleted)
    return Response(found.schema, media_type=MEDIA_TYPE)


@router.delete("/subjects/{subject}/versions/{version}")
async def delete_version(subject: str, version: str, store: Store, permanent: Permanent = False) -> int:
    return await store.delete_version(subject, _version(version), permanent)


# --- compatibility -----------------------------------------------------------------------------


@router.post("/compatibility/subjects/{subject}/versions/{version}")
async def test_against_version(
    subject: str, version: str, body: SchemaRequest, store: Store, verbose: bool = False
) -> dict[str, Any]:
    reasons = await store.check_against_version(subject, body.parsed(), _version(version))
    return _compatibility_answer(reasons, verbose)


@router.post("/compatibility/subjects/{subject}/versions")
async def test_against_subject(
    subject: str, body: SchemaRequest, store: Store, verbose: bool = False
) -> dict[str, Any]:
    """Against every version the subject's level involves, as a registration would check."""
    reasons = await store.check_against_subject(subject, body.parsed())
    return _compatibility_answer(reasons, verbose)


# --- config ------------------------------------------------------------------------------------


@router.get("/config")
async def get_global_config(store: Store) -> dict[str, str]:
    return {"compatibilityLevel": await store.global_level()}


@router.put("/config")
async def put_global_config(body: CompatibilityRequest, store: Store) -> dict[str, str]:
    level = parse_level(body.compatibility)
    await store.set_global_level(level)
    return {"compatibility": level}


@router.delete("/config")
async def delete_global_config(store: Store) -> dict[str, str]:
    return {"compatibilityLevel": await store.reset_global_level()}


@router.get("/config/{subject}")
async def get_subject_config(
    subject: str,
    store: Store,
    default_to_global: Annotated[bool, Query(alias="defaultToGlobal")] = False,
) -> dict[str, str]:
    """The subject's own level; 40408 without one unless `defaultToGlobal=true`."""
    level = await store.subject_level(subject)
    if level is None:
        if not default_to_global:
            raise SubjectCompatibilityNotConfiguredError(subject)
        level = await store.global_level()
    return {"compatibilityLevel": level}


@router.put("/config/{subject}")
async def put_subject_config(subject: str, body: CompatibilityRequest, store: Store) -> dict[str, str]:
    level = parse_level(body.compatibility)
    await store.set_subject_level(subject, level)
    return {"compatibility": level}


@router.delete("/config/{subject}")
async def delete_subject_config(subject: str, store: Store) -> dict[str, str]:
    return {"compatibilityLevel": await store.delete_subject_level(subject)}


# --- errors ------------------------------------------------------------------------------------


def _error(status: int, error_code: int, message: str) -> RegistryJSONResponse:
    return RegistryJSONResponse({"error_code": error_code, "message": message}, status)


async def _registry_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RegistryError)
    return _error(exc.http_status, exc.error_code, exc.message)


async def _validation_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = "; ".join(f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}" for error in exc.errors())
    return _error(422, 422, f"Unprocessable request: {problems}")


async def _http_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return _error(exc.status_code, exc.status_code, f"HTTP {exc.status_code} {exc.detail}")


async def _backend_error(request: Request, exc: Exception) -> Response:
    logger.error("%s %s failed in PostgreSQL: %r", request.method, request.url.path, exc)
    return _error(500, 50001, f"Error in the backend data store: {exc!r}")


def create_app(settings: RegistrySettings) -> FastAPI:
    """The registry application; its lifespan opens and closes the PostgreSQL pool."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = await RegistryStore.open(settings.postgres_dsn.get_secret_value(), settings.default_compatibility)
        app.state.store = store
        logger.info("schema registry ready on %s:%d", settings.host, settings.port)
        try:
            yield
        finally:
            await store.close()

    app = FastAPI(
        title="AIOS schema registry",
        lifespan=lifespan,
        default_response_class=RegistryJSONResponse,
    )
    app.include_router(router)
    if settings.users_file is not None:
        app.add_middleware(BasicAuthMiddleware, users=UsersFile(settings.users_file))
    app.add_exception_handler(RegistryError, _registry_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    for error in BACKEND_ERRORS:
        app.add_exception_handler(error, _backend_error)
    return app
