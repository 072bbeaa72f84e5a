"""Signing in and out. Failed sign-ins are throttled per account and client address (`review.signin`)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from aios.observability import metrics
from aios.review.parts import SERVICE
from aios.review.signin import LOGIN_TOKEN_TTL_S
from aios.review.web import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    CsrfRefused,
    FormSession,
    Parts,
    check_csrf,
    page,
    set_cookie,
)

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, parts: Parts) -> Response:
    token = parts.login_tokens.issue()
    response = page(request, "login.html", csrf_token=token)
    set_cookie(parts, response, LOGIN_CSRF_COOKIE, token, LOGIN_TOKEN_TTL_S)
    return response


@router.post("/login")
async def login(
    request: Request,
    parts: Parts,
    tenant: str = Form(...),
    username: str = Form(...),
    password: str = Form(...),
    csrf_token: str | None = Form(None),
) -> Response:
    check_csrf(request.cookies.get(LOGIN_CSRF_COOKIE), csrf_token)
    if not parts.login_tokens.valid(csrf_token or ""):
        raise CsrfRefused("the sign-in form is not one this server issued, or too old; reload the page")

    def again(status: int, problem: str) -> HTMLResponse:
        return page(
            request, "login.html", status, csrf_token=csrf_token, tenant=tenant, username=username, problem=problem
        )

    address = request.client.host if request.client else "unknown"
    try:
        wait_s = await parts.signin.admit(tenant, username, address)
    except (RedisConnectionError, RedisTimeoutError) as exc:
        log.warning("sign-in refused: Redis (which counts failed sign-ins) is unavailable: %r", exc)
        return again(503, "Signing in is unavailable for a moment; try again shortly.")
    if wait_s:
        metrics.REVIEW_LOGINS.labels(SERVICE, "throttled").inc()
        throttled = again(429, f"Too many failed sign-ins; try again in {wait_s} s.")
        throttled.headers["Retry-After"] = str(wait_s)
        return throttled
    reviewer = await parts.accounts.authenticate(tenant, username, password)
    if reviewer is None:
        metrics.REVIEW_LOGINS.labels(SERVICE, "refused").inc()
        return again(401, "Wrong tenant, user name or password.")
    await parts.signin.succeeded(tenant, username, address)
    metrics.REVIEW_LOGINS.labels(SERVICE, "ok").inc()
    ttl_s = parts.settings.session_ttl_s
    token, _session = await parts.accounts.open_session(reviewer, ttl_s)
    signed = RedirectResponse("/", status_code=303)
    set_cookie(parts, signed, SESSION_COOKIE, token, ttl_s)
    signed.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return signed


@router.post("/logout")
async def logout(request: Request, parts: Parts, _session: FormSession) -> Response:
    await parts.accounts.close_session(request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
