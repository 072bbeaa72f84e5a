"""The auditor API: `GET /v1/audit/events/{event_id}` with an auditor key of the event's tenant.

Auditor keys (`aios audit key TENANT`) are API keys with the `auditor` role in the tenants'
key table; they read the audit trail and cannot submit events. Another tenant's event is a 404,
exactly like an unknown one, so keys cannot probe for other tenants' ids.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from fastapi import FastAPI, Header, Path, Request
from fastapi.responses import JSONResponse

from aios.audit.lineage import lineage
from aios.audit.store import AuditStore
from aios.errors import Refused
from aios.observability.http import HttpExposureSettings, RequestMetrics, add_metrics_route
from aios.tenants.auth import Authenticator
from aios.tenants.store import AUDITOR, TenantStore


def create_audit_app(pool: asyncpg.Pool, auth_cache_s: float = 30.0) -> FastAPI:
    store = AuditStore(pool)
    auth = Authenticator(TenantStore(pool), auth_cache_s, role=AUDITOR)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await auth.listen()
        yield
        await auth.close()

    app = FastAPI(
        lifespan=lifespan,
        title="AIOS audit",
        version="1.0.0",
        summary="Lineage of events for a tenant's auditors.",
        **HttpExposureSettings().docs_routes(),
    )
    add_metrics_route(app)
    app.add_middleware(RequestMetrics, service="audit")

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> JSONResponse:
        return JSONResponse({"detail": exc.reason}, status_code=exc.status, headers=exc.headers)

    @app.get("/v1/audit/events/{event_id}", summary="An event's lineage, in order, with its audit rows")
    async def event_lineage(
        event_id: str = Path(max_length=128),
        authorization: str | None = Header(default=None, description="`Bearer <auditor key>`"),
    ) -> Any:
        tenant = await auth.tenant(authorization)
        rows = await store.event_rows(event_id, tenant.tenant_id)
        if not rows:
            return JSONResponse({"detail": "no such event for this tenant"}, status_code=404)
        return lineage(rows)

    @app.get("/healthz", summary="The process is up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", summary="PostgreSQL reachable")
    async def readyz() -> Any:
        try:
            ready = await pool.fetchval("SELECT 1") == 1
        except Exception:
            ready = False
        body = {"status": "ready" if ready else "not ready", "checks": {"postgres": ready}}
        return body if ready else JSONResponse(body, status_code=503)

    return app
