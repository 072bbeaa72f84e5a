"""Liveness and readiness of one review process."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from aios.review.web import Parts

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(parts: Parts) -> JSONResponse:
    checks = {
        "postgres": await _answers(parts.pool.fetchval("SELECT 1")),
        "kafka": await asyncio.to_thread(parts.producer.reachable),
        "intake": parts.intake.alive(),
    }
    ready = all(checks.values())
    return JSONResponse({"status": "ready" if ready else "not ready", "checks": checks}, 200 if ready else 503)


async def _answers(query: Awaitable[Any]) -> bool:
    try:
        return bool(await query)
    except Exception:
        return False
