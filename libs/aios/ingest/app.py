"""The ingest HTTP API (FastAPI): events from RPA bots and webhooks into `aios.events.received`."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI, Header, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from redis.asyncio import Redis

from aios.audit.store import AuditStore
from aios.db.pool import UNAVAILABLE_ERRORS
from aios.ingest.accept import RECEIVED_TOPIC, REDIS_UNAVAILABLE, EventAcceptor, InvalidEvent, Submission
from aios.ingest.auth import Authenticator
from aios.ingest.errors import IngestRefused, PayloadTooLarge, SignatureInvalid, UnsupportedMediaType
from aios.ingest.idempotency import IdempotencyKeys
from aios.ingest.models import Accepted, EventIn, EventStatus, Health, Problem
from aios.ingest.quotas import TenantQuotas
from aios.ingest.replay import ReplayGuard
from aios.ingest.settings import IngestSettings
from aios.ingest.signatures import SIGNATURE_HEADER, parse_signature, verify_signature
from aios.ingest.status import EventStatusStore
from aios.kafka.async_producer import AsyncProducer
from aios.observability.http import RequestMetrics, add_metrics_route
from aios.observability.tracing import configure_tracing
from aios.schemas.serde import Codecs
from aios.settings import ConnectionSettings
from aios.tenants.store import TenantStore

log = logging.getLogger(__name__)

REFUSALS: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "description": description}
    for status, description in {
        400: "Invalid JSON or fields; `detail` lists each field's problem.",
        401: "Missing or unknown API key, or a bad webhook signature.",
        413: "Body larger than the configured limit.",
        415: "Content-Type is not application/json.",
        422: "The Idempotency-Key was used for a different request.",
        429: "The tenant's quota is spent; see Retry-After.",
        503: "Kafka did not acknowledge in time, or Redis or PostgreSQL is unreachable; nothing was accepted. "
        "See Retry-After.",
    }.items()
}
EVENT_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/EventIn"}}},
    }
}


@dataclass
class IngestParts:
    """Everything a request needs, made once at startup."""

    acceptor: EventAcceptor
    auth: Authenticator
    replay: ReplayGuard
    status: EventStatusStore
    producer: AsyncProducer
    redis: Redis
    pool: asyncpg.Pool
    registry_url: str


def create_app(settings: IngestSettings | None = None, connection: ConnectionSettings | None = None) -> FastAPI:
    settings = settings or IngestSettings()
    connection = connection or ConnectionSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from aios.db.migrations import migrate

        configure_tracing("ingest")  # in each worker process: spans are per process
        pool = await asyncpg.create_pool(connection.postgres_dsn.get_secret_value(), min_size=1, max_size=10)
        await migrate(pool)
        redis = Redis.from_url(connection.redis_url)
        producer = AsyncProducer(connection.kafka_bootstrap, client_id="ingest")
        codecs = Codecs(connection.schema_registry_url, carries={settings.topic: RECEIVED_TOPIC})
        status = EventStatusStore(redis, settings.status_ttl_s)
        app.state.parts = IngestParts(
            acceptor=EventAcceptor(
                producer,
                codecs,
                TenantQuotas(redis, settings.quota_rate_per_s, settings.quota_burst),
                IdempotencyKeys(redis, settings.idempotency_ttl_s, stale_after_s=settings.ack_timeout_s),
                status,
                settings.ack_timeout_s,
                settings.topic,
            ),
            auth=Authenticator(TenantStore(pool), settings.auth_cache_s),
            replay=ReplayGuard(redis, settings.signature_tolerance_s),
            status=status,
            producer=producer,
            redis=redis,
            pool=pool,
            registry_url=connection.schema_registry_url,
        )
        # What start-up made (modules, pools, settings) lives as long as the process: keeping it out of
        # the collector's generations makes each collection during requests short (tail latency).
        gc.collect()
        gc.freeze()
        yield
        await asyncio.to_thread(producer.close)
        await redis.aclose()
        await pool.close()

    app = FastAPI(
        title="AIOS ingest",
        version="1.0.0",
        summary="Events from RPA bots, webhooks and systems into AIOS.",
        lifespan=lifespan,
    )
    add_metrics_route(app)

    def parts(request: Request) -> IngestParts:
        return request.app.state.parts

    @app.exception_handler(IngestRefused)
    async def refused(request: Request, exc: IngestRefused) -> JSONResponse:
        detail: Any = exc.problems if isinstance(exc, InvalidEvent) else exc.reason
        return JSONResponse({"detail": detail}, status_code=exc.status, headers=exc.headers)

    async def dependency_unavailable(request: Request, exc: Exception) -> JSONResponse:
        """Redis (quotas, idempotency keys) or PostgreSQL (API keys) is down: refuse before accepting anything."""
        log.warning("%s %s refused: a dependency is unavailable: %r", request.method, request.url.path, exc)
        detail = "a dependency of the edge (Redis or PostgreSQL) is unavailable; nothing was accepted, retry"
        return JSONResponse({"detail": detail}, status_code=503, headers={"Retry-After": "1"})

    for unavailable in {*REDIS_UNAVAILABLE, *UNAVAILABLE_ERRORS}:
        app.add_exception_handler(unavailable, dependency_unavailable)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        return JSONResponse({"detail": problems}, status_code=400)

    app.add_middleware(RequestMetrics, service="ingest")

    async def read_json_body(request: Request) -> bytes:
        """The raw body, refusing a wrong content type (415) or a body over the limit (413) early."""
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != "application/json":
            raise UnsupportedMediaType("send the event as application/json")
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > settings.max_body_bytes:
            raise PayloadTooLarge(f"body is larger than {settings.max_body_bytes} bytes")
        body = bytearray()
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > settings.max_body_bytes:
                raise PayloadTooLarge(f"body is larger than {settings.max_body_bytes} bytes")
        return bytes(body)

    def accepted(event_id: str) -> JSONResponse:
        body = Accepted(event_id=event_id, status_url=f"{settings.base_url()}/v1/events/{event_id}")
        return JSONResponse(body.model_dump(), status_code=202)

    @app.post(
        "/v1/events",
        status_code=202,
        response_model=Accepted,
        responses=REFUSALS,
        openapi_extra=EVENT_BODY,
        summary="Submit an event (API key)",
    )
    async def submit_event(
        request: Request,
        authorization: str | None = Header(default=None, description="`Bearer <api key>`"),
        idempotency_key: str | None = Header(
            default=None, max_length=255, description="Retries with the same key within 24 h get the same event."
        ),
    ) -> JSONResponse:
        tenant = await parts(request).auth.tenant(authorization)
        body = await read_json_body(request)
        event_id = await parts(request).acceptor.accept(
            Submission(tenant.tenant_id, body, source="api", route="/v1/events", idempotency_key=idempotency_key)
        )
        return accepted(event_id)

    @app.post(
        "/v1/webhooks/{source}",
        status_code=202,
        response_model=Accepted,
        responses=REFUSALS,
        openapi_extra=EVENT_BODY,
        summary="Submit an event (signed webhook)",
    )
    async def submit_webhook(
        request: Request,
        source: str = Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"),
        aios_signature: str | None = Header(
            default=None, alias=SIGNATURE_HEADER, description='`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`'
        ),
        idempotency_key: str | None = Header(default=None, max_length=255),
    ) -> JSONResponse:
        body = await read_json_body(request)
        signature = parse_signature(aios_signature)
        found = await parts(request).auth.webhook_source(source)
        if found is None:
            raise SignatureInvalid("unknown webhook source or bad signature")
        verify_signature(signature, body, found.secrets, time.time(), settings.signature_tolerance_s)
        if not await parts(request).replay.first_use(source, aios_signature or ""):
            raise SignatureInvalid("this signature was already used (replay)")
        event_id = await parts(request).acceptor.accept(
            Submission(
                found.tenant_id,
                body,
                source=f"webhook:{source}",
                route=f"/v1/webhooks/{source}",
                idempotency_key=idempotency_key,
            )
        )
        return accepted(event_id)

    @app.get(
        "/v1/events/{event_id}",
        response_model=EventStatus,
        responses={401: REFUSALS[401], 404: {"model": Problem, "description": "Unknown to this tenant."}},
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
        stages = await AuditStore(parts(request).pool).stages(tenant.tenant_id, event_id)
        return EventStatus.model_validate({**found, "event_id": event_id, "stage": stages[-1], "stages": stages})

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
            components["EventIn"] = EventIn.model_json_schema(ref_template="#/components/schemas/{model}")
            # FastAPI documents its default 422 for parameter errors; this API answers those with 400.
            for operations in schema["paths"].values():
                for operation in operations.values():
                    responses = operation["responses"]
                    if "HTTPValidationError" in json.dumps(responses.get("422", {})):
                        del responses["422"]
                        responses.setdefault(
                            "400", {"description": REFUSALS[400]["description"], "content": _problem_content()}
                        )
            components.pop("HTTPValidationError", None)
            components.pop("ValidationError", None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _problem_content() -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


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
