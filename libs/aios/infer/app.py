"""The model endpoint over HTTP: the Open Inference Protocol's v2 REST routes that fit a text classifier.

Health and server metadata are open; everything under `/v2/models/` needs the tenant's API key
(`Authorization: Bearer ...`), since what a name resolves to depends on the tenant. Every refusal
answers `{"error": reason}`, the protocol's error shape.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from starlette.types import ASGIApp

import aios
from aios.errors import Refused
from aios.infer.errors import BodyTooLarge, InvalidInference
from aios.infer.protocol import (
    BINARY_MEDIA_TYPE,
    HEADER_LENGTH,
    INPUTS_METADATA,
    OUTPUTS_METADATA,
    ErrorAnswer,
    InferenceRequest,
    InferenceResponse,
    Limits,
    Live,
    ModelMetadata,
    ModelReady,
    Ready,
    ServerMetadata,
    output_tensors,
    read_request,
    write_response,
)
from aios.infer.service import SERVICE, InferParts, open_parts
from aios.infer.settings import InferSettings
from aios.observability.http import HttpExposureSettings, RequestMetrics, add_metrics_route
from aios.settings import ConnectionSettings

router = APIRouter()

ERRORS: dict[int, str] = {
    400: "The request is not an inference request this model reads; `error` says what is wrong.",
    401: "No API key, or one no tenant has (`Authorization: Bearer <api key>`).",
    404: "No model of this name for this tenant.",
    413: "The body is larger than the service takes.",
    429: "The batch queue is full: retry after `Retry-After` seconds.",
    500: "The batch this request was in failed; `error` gives the reason.",
    503: "The model cannot answer now (registry not read yet, backend unreachable): retry after `Retry-After`.",
}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}}}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {
        code: {
            "model": ErrorAnswer,
            "description": ERRORS[code],
            **({"headers": RETRY_AFTER} if code in (429, 503) else {}),
        }
        for code in codes
    }


def infer_parts(request: Request) -> InferParts:
    parts: InferParts = request.app.state.parts
    return parts


Parts = Annotated[InferParts, Depends(infer_parts)]
Authorization = Annotated[str | None, Header(description="`Bearer <api key>`")]
ModelName = Annotated[str, Path(max_length=200, description="A registry model name (its aliases pick the version).")]


@router.get("/v2/health/live", response_model=Live, summary="The process is up")
async def live() -> Live:
    return Live(live=True)


@router.get(
    "/v2/health/ready",
    response_model=Ready,
    responses={503: {"model": Ready, "description": "The model registry has not been read yet."}},
    summary="Models can be served",
)
async def ready(parts: Parts) -> Ready | JSONResponse:
    if parts.service.ready():
        return Ready(ready=True)
    return JSONResponse(Ready(ready=False).model_dump(), status_code=503)


@router.get("/v2", response_model=ServerMetadata, summary="Server metadata")
async def server_metadata() -> ServerMetadata:
    return ServerMetadata(name="aios-infer", version=aios.__version__, extensions=["binary_tensor_data"])


@router.get(
    "/v2/models/{model_name}",
    response_model=ModelMetadata,
    responses=errors(400, 401, 404, 503),
    summary="A model's inputs, outputs and the versions that answer this tenant",
)
async def model_metadata(parts: Parts, model_name: ModelName, authorization: Authorization = None) -> ModelMetadata:
    tenant = await parts.auth.tenant(authorization)
    route = parts.service.route(model_name, tenant.tenant_id)
    versions = [route.production] + ([route.canary] if route.canary is not None else [])
    return ModelMetadata(
        name=model_name,
        versions=[str(ref.version) for ref in versions],
        platform=f"aios_{parts.backend.name}",
        inputs=INPUTS_METADATA,
        outputs=OUTPUTS_METADATA,
    )


@router.get(
    "/v2/models/{model_name}/ready",
    response_model=ModelReady,
    responses=errors(400, 401, 404, 503),
    summary="The model can answer this tenant",
)
async def model_ready(parts: Parts, model_name: ModelName, authorization: Authorization = None) -> ModelReady:
    tenant = await parts.auth.tenant(authorization)
    parts.service.route(model_name, tenant.tenant_id)
    return ModelReady(name=model_name, ready=True)


@router.post(
    "/v2/models/{model_name}/infer",
    response_model=InferenceResponse,
    responses={
        200: {
            "description": "One row per text in each output. Outputs asked for binary come after a JSON header of"
            f" `{HEADER_LENGTH}` bytes (`{BINARY_MEDIA_TYPE}`).",
            "content": {BINARY_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
        },
        **errors(400, 401, 404, 413, 429, 500, 503),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "Texts as the BYTES tensor `text`, in JSON; with the binary tensor extension, the"
            f" JSON header is the first `{HEADER_LENGTH}` bytes and the tensors follow.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/InferenceRequest"}}},
        }
    },
    summary="Classify texts: label, confidence, top-k, out-of-scope and the model version per text",
)
async def infer(
    request: Request,
    parts: Parts,
    model_name: ModelName,
    authorization: Authorization = None,
    header_length: Annotated[
        str | None, Header(alias=HEADER_LENGTH, description="Length of the JSON header when binary tensors follow.")
    ] = None,
) -> Response:
    settings: InferSettings = request.app.state.settings
    tenant = await parts.auth.tenant(authorization)
    parts.service.route(model_name, tenant.tenant_id)  # an unknown model is a 404 before its body is read
    body = await _body(request, settings.max_body_bytes)
    ask = read_request(
        body,
        header_length,
        Limits(settings.max_texts, settings.max_text_chars, settings.top_k, settings.max_top_k),
    )
    answer = await parts.service.infer(model_name, tenant.tenant_id, ask.texts, ask.top_k, ask.request_id)
    content, headers = write_response(
        InferenceResponse(
            model_name=model_name,
            model_version=str(answer.ref.version),
            id=answer.request_id,
            parameters={"alias": answer.alias},
            outputs=[],
        ),
        output_tensors(answer.predictions, ask.top_k, answer.ref.version),
        ask.outputs,
    )
    return Response(content, headers=headers)


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(f"the body has {declared} bytes, at most {limit} are taken")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge(f"the body is larger than {limit} bytes")
    return bytes(body)


def create_app(settings: InferSettings | None = None, connection: ConnectionSettings | None = None) -> ASGIApp:
    """What uvicorn serves: the API, its requests counted by `RequestMetrics`."""
    return RequestMetrics(create_api(settings, connection), service=SERVICE)


def create_api(settings: InferSettings | None = None, connection: ConnectionSettings | None = None) -> FastAPI:
    settings = settings or InferSettings()
    connection = connection or ConnectionSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_parts(settings, connection) as parts:
            app.state.parts = parts
            yield

    app = FastAPI(
        title="AIOS infer",
        version="1.0.0",
        summary="Registry models as a service (Open Inference Protocol v2, REST), batched across requests.",
        lifespan=lifespan,
        **HttpExposureSettings().docs_routes(),
    )
    app.state.settings = settings
    add_metrics_route(app)
    app.add_exception_handler(Refused, refused)  # type: ignore[arg-type]  # Starlette types handlers loosely
    app.add_exception_handler(RequestValidationError, invalid_request)  # type: ignore[arg-type]
    app.include_router(router)
    app.openapi = lambda: openapi_document(app)  # type: ignore[method-assign]
    return app


async def refused(request: Request, exc: Refused) -> JSONResponse:
    return JSONResponse(ErrorAnswer(error=exc.reason).model_dump(), status_code=exc.status, headers=exc.headers)


async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
    """Parameter errors (a too long model name) answer 400 like the body's."""
    problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5])
    return await refused(request, InvalidInference(problems))


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with the request message it reads by hand and 400 in place of its default 422."""
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        request = InferenceRequest.model_json_schema(ref_template="#/components/schemas/{model}")
        components |= request.pop("$defs", {}) | {"InferenceRequest": request}
        for operations in schema["paths"].values():
            for operation in operations.values():
                # Every route that takes parameters documents its 400 itself.
                operation["responses"].pop("422", None)
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        app.openapi_schema = schema
    return app.openapi_schema
