"""The review web service (FastAPI, server-rendered Jinja2 pages; no front-end build).

Reviewers sign in per tenant; the session cookie is HttpOnly and SameSite=Strict and every form
carries the session's CSRF token (the sign-in form a double-submit token). Every query is scoped
to the reviewer's tenant, so another tenant's item is simply not found (404). Background work in
the same process: the intake thread that stores review requests, the outbox publisher that
produces verdicts, and the open/overdue gauges.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from aios.db.migrations import migrate
from aios.db.pool import create_pool
from aios.kafka.async_producer import AsyncProducer
from aios.kafka.deadletter import DEADLETTER_TOPIC
from aios.observability import metrics
from aios.observability.http import RequestMetrics, add_metrics_route
from aios.observability.tracing import resumed_span
from aios.review.accounts import ReviewerAccounts, Session
from aios.review.errors import ReviewError
from aios.review.intake import ReviewIntake
from aios.review.outbox import OutboxPublisher
from aios.review.settings import REVIEW_COMPLETED_TOPIC, ReviewSettings
from aios.review.store import VERDICTS, Item, ReviewStore, Verdict
from aios.schemas.serde import Codecs
from aios.settings import ConnectionSettings

log = logging.getLogger(__name__)

SERVICE = "review"
SESSION_COOKIE = "aios_review_session"
LOGIN_CSRF_COOKIE = "aios_review_login_csrf"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))


class CsrfRefused(ReviewError):
    """A form came without the session's CSRF token (or with another one)."""

    status = 403


@dataclass
class ReviewParts:
    pool: asyncpg.Pool
    accounts: ReviewerAccounts
    store: ReviewStore
    producer: AsyncProducer
    outbox: OutboxPublisher
    intake: ReviewIntake
    tasks: list[asyncio.Task[None]]


def create_app(settings: ReviewSettings | None = None, connection: ConnectionSettings | None = None) -> FastAPI:
    settings = settings or ReviewSettings()
    connection = connection or ConnectionSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await create_pool(connection.postgres_dsn.get_secret_value(), max_size=10)
        await migrate(pool)
        producer = AsyncProducer(connection.kafka_bootstrap, client_id=SERVICE)
        codecs = Codecs(
            connection.schema_registry_url,
            carries={settings.completed_topic: REVIEW_COMPLETED_TOPIC, settings.deadletter_topic: DEADLETTER_TOPIC},
        )
        outbox = OutboxPublisher(
            pool, producer, codecs, settings.completed_topic, ack_timeout_s=settings.outbox_ack_timeout_s
        )
        intake = ReviewIntake(settings, connection, SERVICE)
        intake.start()
        store = ReviewStore(pool)
        tasks = [
            asyncio.create_task(outbox.run(settings.outbox_interval_s)),
            asyncio.create_task(_count_items(store, settings.gauges_interval_s)),
        ]
        app.state.parts = ReviewParts(pool, ReviewerAccounts(pool), store, producer, outbox, intake, tasks)
        yield
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await asyncio.to_thread(intake.stop)
        await asyncio.to_thread(producer.close)
        await pool.close()

    app = FastAPI(title="AIOS review", version="1.0.0", lifespan=lifespan, docs_url=None, redoc_url=None)
    add_metrics_route(app)
    app.add_middleware(RequestMetrics, service=SERVICE)
    metrics.start_at_zero(metrics.REVIEW_COMPLETED, SERVICE, VERDICTS)
    metrics.start_at_zero(metrics.REVIEW_LOGINS, SERVICE, metrics.LOGIN_RESULTS)
    metrics.REVIEW_REQUESTS_STORED.labels(SERVICE)
    TEMPLATES.env.filters.update(when=_when, ago=_ago, ahead=_ahead)

    def parts(request: Request) -> ReviewParts:
        found: ReviewParts = request.app.state.parts
        return found

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        return TEMPLATES.TemplateResponse(request, template, {"now": datetime.now(UTC), **context}, status_code=status)

    @app.exception_handler(ReviewError)
    async def refused(request: Request, exc: ReviewError) -> HTMLResponse:
        session = await parts(request).accounts.session(request.cookies.get(SESSION_COOKIE))
        titles = {403: "Refused", 404: "Not found", 409: "Not possible now"}
        back = request.url.path.rsplit("/", 1)[0] if exc.status == 409 else "/"
        return page(
            request,
            "problem.html",
            exc.status,
            session=session,
            title=titles.get(exc.status, "Cannot do that"),
            detail=str(exc),
            back=back,
        )

    def set_cookie(response: Response, name: str, value: str, max_age: int) -> None:
        response.set_cookie(
            name, value, max_age=max_age, httponly=True, samesite="strict", secure=settings.cookie_secure, path="/"
        )

    async def signed_in(request: Request) -> Session | None:
        return await parts(request).accounts.session(request.cookies.get(SESSION_COOKIE))

    def check_csrf(expected: str | None, sent: str | None) -> None:
        if not expected or not sent or not hmac.compare_digest(expected, sent):
            raise CsrfRefused("the form's security token is missing or wrong; reload the page and try again")

    async def form_session(request: Request, csrf_token: str | None) -> Session:
        """The session a form was sent from, its CSRF token checked."""
        session = await signed_in(request)
        if session is None:
            raise CsrfRefused("you are signed out; sign in again")
        check_csrf(session.csrf_token, csrf_token)
        return session

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    async def login_page(request: Request) -> Response:
        token = secrets.token_urlsafe(32)
        response = page(request, "login.html", csrf_token=token)
        set_cookie(response, LOGIN_CSRF_COOKIE, token, 3600)
        return response

    @app.post("/login", include_in_schema=False)
    async def login(
        request: Request,
        tenant: str = Form(...),
        username: str = Form(...),
        password: str = Form(...),
        csrf_token: str | None = Form(None),
    ) -> Response:
        check_csrf(request.cookies.get(LOGIN_CSRF_COOKIE), csrf_token)
        reviewer = await parts(request).accounts.authenticate(tenant, username, password)
        if reviewer is None:
            metrics.REVIEW_LOGINS.labels(SERVICE, "refused").inc()
            return page(
                request,
                "login.html",
                401,
                csrf_token=csrf_token,
                tenant=tenant,
                username=username,
                problem="Wrong tenant, user name or password.",
            )
        metrics.REVIEW_LOGINS.labels(SERVICE, "ok").inc()
        token, _session = await parts(request).accounts.open_session(reviewer, settings.session_ttl_s)
        signed = RedirectResponse("/", status_code=303)
        set_cookie(signed, SESSION_COOKIE, token, settings.session_ttl_s)
        signed.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
        return signed

    @app.post("/logout", include_in_schema=False)
    async def logout(request: Request, csrf_token: str | None = Form(None)) -> Response:
        await form_session(request, csrf_token)
        await parts(request).accounts.close_session(request.cookies.get(SESSION_COOKIE, ""))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def queue(request: Request, done: str | None = None) -> Response:
        session = await signed_in(request)
        if session is None:
            return RedirectResponse("/login", status_code=303)
        items = await parts(request).store.queue(session.reviewer.tenant_id)
        now = datetime.now(UTC)
        notice = f"Review {done} completed; the decision is on its way." if done else None
        overdue = sum(item.overdue(now) for item in items)
        return page(request, "queue.html", session=session, items=items, overdue=overdue, notice=notice)

    @app.get("/items/{review_id}", response_class=HTMLResponse, include_in_schema=False)
    async def item_page(request: Request, review_id: str) -> Response:
        session = await signed_in(request)
        if session is None:
            return RedirectResponse("/login", status_code=303)
        item = await parts(request).store.item(session.reviewer.tenant_id, review_id)
        return page(
            request,
            "item.html",
            session=session,
            item=item,
            labels=await _labels(parts(request).store, item),
            claim_minutes=settings.claim_ttl_s // 60,
        )

    @app.post("/items/{review_id}/claim", include_in_schema=False)
    async def claim(request: Request, review_id: str, csrf_token: str | None = Form(None)) -> Response:
        session = await form_session(request, csrf_token)
        await parts(request).store.claim(session.reviewer, review_id, settings.claim_ttl_s)
        return RedirectResponse(f"/items/{review_id}", status_code=303)

    @app.post("/items/{review_id}/release", include_in_schema=False)
    async def release(request: Request, review_id: str, csrf_token: str | None = Form(None)) -> Response:
        session = await form_session(request, csrf_token)
        await parts(request).store.release(session.reviewer, review_id)
        return RedirectResponse(f"/items/{review_id}", status_code=303)

    @app.post("/items/{review_id}/complete", include_in_schema=False)
    async def complete(
        request: Request,
        review_id: str,
        verdict: str = Form(...),
        csrf_token: str | None = Form(None),
        edited_draft: str | None = Form(None),
        corrected_label: str | None = Form(None),
        reason: str = Form(""),
    ) -> Response:
        session = await form_session(request, csrf_token)
        store = parts(request).store
        item = await store.item(session.reviewer.tenant_id, review_id)
        parent = {k: str(v) for k, v in item.request["trace"].items() if v}
        # Hours may have passed since the request: the verdict is a span of the event's trace linked to
        # the one that asked for review, never one span covering the wait.
        with resumed_span(SERVICE, f"{SERVICE} verdict", parent, "review") as carrier:
            trace = {"traceparent": carrier.get("traceparent", ""), "tracestate": carrier.get("tracestate")}
        done = await store.complete(
            session.reviewer, review_id, Verdict(verdict, corrected_label, edited_draft, reason.strip()), trace
        )
        parts(request).outbox.wake()
        metrics.REVIEW_COMPLETED.labels(SERVICE, verdict).inc()
        if done.completed_at is not None:
            waited = (done.completed_at - done.requested_at).total_seconds()
            metrics.REVIEW_TIME_TO_COMPLETE_SECONDS.labels(SERVICE).observe(waited)
        return RedirectResponse(f"/?done={review_id}", status_code=303)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> JSONResponse:
        checks = {
            "postgres": await _answers(parts(request).pool.fetchval("SELECT 1")),
            "kafka": await asyncio.to_thread(parts(request).producer.reachable),
            "intake": parts(request).intake.alive(),
        }
        ready = all(checks.values())
        return JSONResponse({"status": "ready" if ready else "not ready", "checks": checks}, 200 if ready else 503)

    return app


async def _answers(query: Awaitable[Any]) -> bool:
    try:
        return bool(await query)
    except Exception:
        return False


async def _labels(store: ReviewStore, item: Item) -> list[str]:
    """Labels to relabel with: the deciding model's, else the ones its prediction listed."""
    classification = item.request["classification"]
    labels = await store.labels(classification["model_name"], int(classification["model_version"]))
    return labels or sorted({score["label"] for score in classification.get("top_k") or []} | {item.label})


async def _count_items(store: ReviewStore, interval_s: float) -> None:
    """Open and overdue items and the oldest wait per tenant, for the gauges (overdue items show on the pages)."""
    seen: set[str] = set()
    while True:
        try:
            counts, waited = await store.counts(), await store.oldest_waiting()
            for tenant in seen | set(counts):
                open_items, overdue = counts.get(tenant, (0, 0))
                metrics.REVIEW_OPEN_ITEMS.labels(SERVICE, tenant).set(open_items)
                metrics.REVIEW_OVERDUE_ITEMS.labels(SERVICE, tenant).set(overdue)
                metrics.REVIEW_OLDEST_WAIT_SECONDS.labels(SERVICE, tenant).set(waited.get(tenant, 0.0))
            seen |= set(counts)
        except Exception:
            log.warning("%s: cannot count review items", SERVICE, exc_info=True)
        await asyncio.sleep(interval_s)


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else ""


def _span(seconds: float) -> str:
    seconds = abs(seconds)
    if seconds < 3600:
        return f"{max(1, round(seconds / 60))} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def _ago(moment: datetime, now: datetime) -> str:
    return _span((now - moment).total_seconds())


def _ahead(moment: datetime, now: datetime) -> str:
    return _span((moment - now).total_seconds())
