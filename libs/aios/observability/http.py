"""HTTP metrics every AIOS web service shares: requests by route and status, and `/metrics` itself.

A service served by several worker processes (uvicorn `workers > 1`) keeps its samples in a
shared folder (`PROMETHEUS_MULTIPROC_DIR`), so a scrape, which reaches one worker, still
counts every worker's requests and counters never appear to reset.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network
from pathlib import Path
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.openmetrics import exposition as openmetrics
from pydantic import Field, IPvAnyNetwork
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aios.observability import metrics

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


class RequestMetrics:
    """Counts and times requests by route template and status (plain ASGI: no per-request task)."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/metrics"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            # The route template (/v1/events/{event_id}), never the path: one series per route.
            route = getattr(scope.get("route"), "path", "unmatched")
            metrics.HTTP_REQUESTS.labels(self.service, route, str(status)).inc()
            metrics.HTTP_SECONDS.labels(self.service, route).observe(time.perf_counter() - started)


class HttpExposureSettings(BaseSettings):
    """What the HTTP services (ingest, audit) serve besides their API, read from `AIOS_HTTP_*` variables."""

    model_config = SettingsConfigDict(env_prefix="AIOS_HTTP_", extra="ignore", frozen=True)

    docs: bool = Field(
        default=True,
        description="Serve the interactive API docs (/docs, /redoc) and /openapi.json; turn off where the API is"
        " public and its callers get the document another way (docs/openapi.json).",
    )
    metrics_networks: list[IPvAnyNetwork] = Field(
        default_factory=lambda: [ip_network("0.0.0.0/0"), ip_network("::/0")],
        description="Client networks that may read /metrics on a service's API port (ingest, review, audit): set"
        ' Prometheus\'s, e.g. ["10.0.0.0/8"]; others get 404. Default: any.',
    )

    def docs_routes(self) -> dict[str, Any]:
        """FastAPI's arguments for the docs and OpenAPI routes: their paths, or None for none."""
        shown = self.docs
        return {
            "docs_url": "/docs" if shown else None,
            "redoc_url": "/redoc" if shown else None,
            "openapi_url": "/openapi.json" if shown else None,
        }


def add_metrics_route(app: Starlette) -> None:
    """`GET /metrics` (exactly: no redirect to /metrics/): this process's registry, or every worker's
    when they share a folder; to clients of `AIOS_HTTP_METRICS_NETWORKS` only (a 404 for others)."""
    registry = REGISTRY
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    networks = HttpExposureSettings().metrics_networks

    async def scrape(request: Request) -> Response:
        if not _client_in(request, networks):
            return Response(status_code=404)
        # Prometheus asks for OpenMetrics first: the only format that carries exemplars (trace ids).
        if "application/openmetrics-text" in request.headers.get("accept", ""):
            return Response(openmetrics.generate_latest(registry), media_type=openmetrics.CONTENT_TYPE_LATEST)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    app.add_route("/metrics", scrape, methods=["GET"], include_in_schema=False)


def _client_in(request: Request, networks: list[IPv4Network | IPv6Network]) -> bool:
    try:
        client = ip_address(request.client.host if request.client else "")
    except ValueError:
        return False
    return any(client in network for network in networks)


def share_metrics_across_workers(instance: str) -> Path:
    """Before worker processes start: an empty folder they all write their samples to.

    `instance` names the server (service and port). The folder is emptied at every start, since
    files left by processes of an earlier run would add their counts to this one's.
    """
    configured = os.environ.get(MULTIPROC_ENV)
    folder = Path(configured) if configured else Path(tempfile.gettempdir()) / f"aios-{instance}-metrics"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    os.environ[MULTIPROC_ENV] = str(folder)
    return folder
