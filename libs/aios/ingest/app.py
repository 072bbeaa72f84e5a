"""The ingest HTTP API: events from RPA bots and webhooks into `aios.events.received`.

The submission routes are served by `SubmissionRoutes` in front of the FastAPI app, which serves
the rest: event status, health, metrics and the OpenAPI document of the whole API.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI, Header, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp

from aios.audit.store import AuditStore
from aios.errors import Refused
from aios.ingest.errors import DEPENDENCY_UNAVAILABLE, DEPENDENCY_UNAVAILABLE_REASON, InvalidEvent
from aios.ingest.models import REFUSALS, Accepted, EventIn, EventStatus, Health, Problem
from aios.ingest.parts import IngestParts, open_parts
from aios.ingest.settings import IngestSettings
from aios.ingest.submissions import OPERATIONS, SubmissionRoutes, json_content
from aios.observability.http import HttpExposureSettings, RequestMetrics, add_metrics_route
from aios.settings import ConnectionSettings

log = logging.getLogger(__name__)


def create_app(settings: IngestSettings | None = None, connection: ConnectionSettings | None = None) -> ASGIApp:
    """What uvicorn serves: the submission routes, then the FastAPI app, all counted by `RequestMetrics`."""
    settings = settings or IngestSettings()
    api = create_api(settings, connection)
    return RequestMetrics(SubmissionRoutes(api, lambda: api.state.parts, settings), service="ingest")


def create_api(settings: IngestSettings | None = None, connection: ConnectionSettings | None = None) -> FastAPI:
    settings = settings or IngestSettings()
    connection = connection or ConnectionSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_parts(settings, connection) as parts:
            app.state.parts = parts
            yield

    app = FastAPI(
        title="AIOS ingest",
        version="1.0.0",
        summary="Events from RPA bots, webhooks and systems into AIOS.",
        lifespan=lifespan,
        **HttpExposureSettings().docs_routes(),
    )
    add_metrics_route(app)

    def parts(request: Request) -> IngestParts:
        return request.app.state.parts

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status, headers=exc.headers)

    async def dependency_unavailable(request: Request, exc: Exception) -> JSONResponse:
        """Redis or PostgreSQL is down: refuse, and say so."""
        log.warning("%s %s refused: a dependency is unavailable: %r", request.method, request.url.path, exc)
        return JSONResponse({"detail": DEPENDENCY_UNAVAILABLE_REASON}, status_code=503, headers={"Retry-After": "1"})

    for unavailable in set(DEPENDENCY_UNAVAILABLE):
        app.add_exception_handler(unavailable, dependency_unavailable)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return await refused(request, InvalidEvent(exc.errors()))

    @app.get(
        "/v1/events/{event_id}",
        response_model=EventStatus,
        responses={
            401: {"model": Problem, "description": REFUSALS[401]},
            404: {"model": Problem, "description": "Unknown to this tenant."},
        },
        summary="What is known of an event",
    )
    async def event_status(
        request: Request,
        event_id: str = Path(max_length=64),
        authorization: str | None = Header(default=None, description="`Bearer <api key>`"),
    ) -> EventStatus | JSONResponse:
        tenant = await parts(request).auth.tenant(authorization)
        found = await parts(request).status.get(event_id, tenant.tenant_id)
        if found is None:
            return JSONResponse({"detail": "no such event for this tenant"}, status_code=404)
        audit = AuditStore(parts(request).pool)
        stages = await audit.stages(tenant.tenant_id, event_id)
        reason = await audit.dead_letter_reason(tenant.tenant_id, event_id) if "dead_lettered" in stages else None
        return EventStatus.model_validate(
            {**found, "event_id": event_id, "stage": stages[-1], "stages": stages, "dead_letter_reason": reason}
        )

    @app.get("/healthz", response_model=Health, summary="The process is up")
    async def healthz() -> Health:
        return Health(status="ok")

    @app.get("/readyz", response_model=Health, responses={503: {"model": Health}}, summary="Dependencies reachable")
    async def readyz(request: Request) -> Health | JSONResponse:
        checks = await dependency_checks(parts(request))
        health = Health(status="ready" if all(checks.values()) else "not ready", checks=checks)
        return health if all(checks.values()) else JSONResponse(health.model_dump(), status_code=503)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            schema["paths"] |= OPERATIONS
            for model in (EventIn, Accepted):
                components[model.__name__] = model.model_json_schema(ref_template="#/components/schemas/{model}")
            # FastAPI documents its default 422 for parameter errors; this API answers those with 400.
            for operations in schema["paths"].values():
                for operation in operations.values():
                    responses = operation["responses"]
                    if "HTTPValidationError" in json.dumps(responses.get("422", {})):
                        del responses["422"]
                        responses.setdefault("400", {"description": REFUSALS[400], "content": json_content("Problem")})
            components.pop("HTTPValidationError", None)
            components.pop("ValidationError", None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


async def dependency_checks(parts: IngestParts) -> dict[str, bool]:
    async def kafka() -> bool:
        return await asyncio.to_thread(parts.producer.reachable)

    async def registry() -> bool:
        async with httpx.AsyncClient(timeout=2) as client:
            return (await client.get(f"{parts.registry_url}/subjects")).status_code == 200

    async def redis() -> bool:
        return bool(await parts.redis.ping())

    async def postgres() -> bool:
        return await parts.pool.fetchval("SELECT 1") == 1

    names = ("kafka", "schema_registry", "redis", "postgres")
    results = await asyncio.gather(kafka(), registry(), redis(), postgres(), return_exceptions=True)
    return {name: result is True for name, result in zip(names, results, strict=True)}
