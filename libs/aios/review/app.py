"""The review web service (FastAPI, server-rendered Jinja2 pages; no front-end build).

Reviewers sign in per tenant (`routes/signin.py`); every query is scoped to the reviewer's tenant,
so another tenant's item is simply not found (404). Background work in the same process
(`parts.py`): the intake thread that stores review requests, the outbox publisher that produces
verdicts, and the open/overdue gauges.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

from aios.observability import metrics
from aios.observability.http import RequestMetrics, add_metrics_route
from aios.review.errors import ReviewError
from aios.review.parts import SERVICE, open_parts
from aios.review.routes import documents, health, items, signin
from aios.review.settings import ReviewSettings
from aios.review.store import VERDICTS
from aios.review.web import SESSION_COOKIE, page, review_parts, security_headers
from aios.settings import ConnectionSettings

PROBLEM_TITLES = {403: "Refused", 404: "Not found", 409: "Not possible now"}


def create_app(settings: ReviewSettings | None = None, connection: ConnectionSettings | None = None) -> FastAPI:
    settings = settings or ReviewSettings()
    connection = connection or ConnectionSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.parts = await open_parts(settings, connection)
        yield
        await app.state.parts.close()

    app = FastAPI(title="AIOS review", version="1.0.0", lifespan=lifespan, docs_url=None, redoc_url=None)
    add_metrics_route(app)
    app.add_middleware(RequestMetrics, service=SERVICE)
    metrics.start_at_zero(metrics.REVIEW_COMPLETED, SERVICE, VERDICTS)
    metrics.start_at_zero(metrics.REVIEW_LOGINS, SERVICE, metrics.LOGIN_RESULTS)
    metrics.REVIEW_REQUESTS_STORED.labels(SERVICE)
    app.middleware("http")(security_headers)
    app.add_exception_handler(ReviewError, refused)  # type: ignore[arg-type]  # Starlette types handlers loosely
    for router in (signin.router, items.router, documents.router, health.router):
        app.include_router(router)
    return app


async def refused(request: Request, exc: ReviewError) -> HTMLResponse:
    """A refusal as a page: what was refused and why, with a way back."""
    parts = review_parts(request)
    session = await parts.accounts.session(request.cookies.get(SESSION_COOKIE), parts.settings.session_idle_s)
    back = request.url.path.rsplit("/", 1)[0] if exc.status == 409 else "/"
    return page(
        request,
        "problem.html",
        exc.status,
        session=session,
        title=PROBLEM_TITLES.get(exc.status, "Cannot do that"),
        detail=str(exc),
        back=back,
    )
