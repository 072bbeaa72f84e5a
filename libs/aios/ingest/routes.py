"""The ingest API's FastAPI routes: event status and health (submissions are served in front, `submissions.py`)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import httpx
from fastapi import APIRouter, Depends, Header, Path, Request
from fastapi.responses import JSONResponse

from aios.audit.store import AuditStore
from aios.extract.index import DocumentIndex
from aios.ingest.models import REFUSALS, EventStatus, Health, Problem
from aios.ingest.parts import IngestParts
from aios.kafka.clients import access
from aios.outcomes.store import read_outcome

router = APIRouter()


def ingest_parts(request: Request) -> IngestParts:
    """What the lifespan opened for this worker."""
    parts: IngestParts = request.app.state.parts
    return parts


Parts = Annotated[IngestParts, Depends(ingest_parts)]


@router.get(
    "/v1/events/{event_id}",
    response_model=EventStatus,
    responses={
        401: {"model": Problem, "description": REFUSALS[401]},
        404: {"model": Problem, "description": "Unknown to this tenant."},
    },
    summary="What is known of an event",
)
async def event_status(
    parts: Parts,
    event_id: str = Path(max_length=64),
    authorization: str | None = Header(default=None, description="`Bearer <api key>`"),
) -> EventStatus | JSONResponse:
    tenant = await parts.auth.tenant(authorization)
    found = await parts.status.get(event_id, tenant.tenant_id)
    if found is None:
        return JSONResponse({"detail": "no such event for this tenant"}, status_code=404)
    audit = AuditStore(parts.pool)
    stages = await audit.stages(tenant.tenant_id, event_id)
    reason = await audit.dead_letter_reason(tenant.tenant_id, event_id) if "dead_lettered" in stages else None
    outcome = await read_outcome(parts.redis, event_id, tenant.tenant_id)
    document = await DocumentIndex(parts.pool).extraction(tenant.tenant_id, event_id)
    return EventStatus.model_validate(
        {
            **found,
            "event_id": event_id,
            "stage": stages[-1],
            "stages": stages,
            "dead_letter_reason": reason,
            "outcome": outcome,
            "document": document,
        }
    )


@router.get("/healthz", response_model=Health, summary="The process is up")
async def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses={503: {"model": Health}}, summary="Dependencies reachable")
async def readyz(parts: Parts) -> Health | JSONResponse:
    checks = await dependency_checks(parts)
    health = Health(status="ready" if all(checks.values()) else "not ready", checks=checks)
    return health if all(checks.values()) else JSONResponse(health.model_dump(), status_code=503)


async def dependency_checks(parts: IngestParts) -> dict[str, bool]:
    async def kafka() -> bool:
        return await asyncio.to_thread(parts.producer.reachable)

    async def registry() -> bool:
        async with httpx.AsyncClient(timeout=2, auth=access().basic_auth()) as client:
            return (await client.get(f"{parts.registry_url}/subjects")).status_code == 200

    async def redis() -> bool:
        return bool(await parts.redis.ping())

    async def postgres() -> bool:
        return await parts.pool.fetchval("SELECT 1") == 1

    names = ("kafka", "schema_registry", "redis", "postgres")
    results = await asyncio.gather(kafka(), registry(), redis(), postgres(), return_exceptions=True)
    return {name: result is True for name, result in zip(names, results, strict=True)}
