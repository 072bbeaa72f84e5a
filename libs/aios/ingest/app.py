"""The ingest HTTP API: events from RPA bots and webhooks into `aios.events.received`.

The submission routes are served by `SubmissionRoutes` in front of the FastAPI app, which serves
the rest: event status, health, metrics and the OpenAPI document of the whole API.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp

from aios.errors import Refused
from aios.ingest.documents import router as documents_router
from aios.ingest.errors import DEPENDENCY_UNAVAILABLE, DEPENDENCY_UNAVAILABLE_REASON, InvalidEvent
from aios.ingest.models import REFUSALS, Accepted, EventIn, EventOutcome
from aios.ingest.parts import open_parts
from aios.ingest.routes import router
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
    app.add_exception_handler(Refused, refused)  # type: ignore[arg-type]  # Starlette types handlers loosely
    for unavailable in set(DEPENDENCY_UNAVAILABLE):
        app.add_exception_handler(unavailable, dependency_unavailable)
    app.add_exception_handler(RequestValidationError, invalid_request)  # type: ignore[arg-type]
    app.include_router(router)
    app.include_router(documents_router)
    app.state.settings = settings
    app.openapi = lambda: openapi_document(app)  # type: ignore[method-assign]
    return app


async def refused(request: Request, exc: Refused) -> JSONResponse:
    return JSONResponse({"detail": exc.detail}, status_code=exc.status, headers=exc.headers)


async def dependency_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """Redis or PostgreSQL is down: refuse, and say so."""
    log.warning("%s %s refused: a dependency is unavailable: %r", request.method, request.url.path, exc)
    return JSONResponse({"detail": DEPENDENCY_UNAVAILABLE_REASON}, status_code=503, headers={"Retry-After": "1"})


async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
    """FastAPI's parameter errors answer as the body's do: 400 with each field named."""
    return await refused(request, InvalidEvent(exc.errors()))


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document of its own routes, with the submission operations served in front of it."""
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        schema["paths"] |= OPERATIONS
        for model in (EventIn, Accepted, EventOutcome):
            document = model.model_json_schema(ref_template="#/components/schemas/{model}")
            components |= document.pop("$defs", {})
            components[model.__name__] = document
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
