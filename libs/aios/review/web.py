"""What every review page shares: templates, security headers, cookies, and the session and CSRF checks.

The session cookie is HttpOnly and SameSite=Strict and every form carries the session's CSRF token;
the routes get the process's parts and the reviewer's session as FastAPI dependencies.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from aios.review.accounts import Session
from aios.review.errors import ReviewError
from aios.review.parts import ReviewParts

SESSION_COOKIE = "aios_review_session"
LOGIN_CSRF_COOKIE = "aios_review_login_csrf"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}
HSTS = "max-age=31536000; includeSubDomains"
"""Sent over HTTPS only: over plain HTTP a browser ignores it, and it would pin a host that has no TLS."""


class CsrfRefused(ReviewError):
    """A form came without the session's CSRF token (or with another one)."""

    status = 403


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


TEMPLATES = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
TEMPLATES.env.filters.update(when=_when, ago=_ago, ahead=_ahead)


def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, template, {"now": datetime.now(UTC), **context}, status_code=status)


async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    response = await call_next(request)
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.url.scheme == "https":
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def review_parts(request: Request) -> ReviewParts:
    """What the lifespan opened for this process."""
    parts: ReviewParts = request.app.state.parts
    return parts


Parts = Annotated[ReviewParts, Depends(review_parts)]


def set_cookie(parts: ReviewParts, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=parts.settings.cookie_secure or parts.settings.tls,
        path="/",
    )


async def signed_in(request: Request, parts: Parts) -> Session | None:
    """The reviewer's session, or None when the cookie names none (or an expired or idle one)."""
    return await parts.accounts.session(request.cookies.get(SESSION_COOKIE), parts.settings.session_idle_s)


def check_csrf(expected: str | None, sent: str | None) -> None:
    if not expected or not sent or not hmac.compare_digest(expected, sent):
        raise CsrfRefused("the form's security token is missing or wrong; reload the page and try again")


async def form_session(
    session: Annotated[Session | None, Depends(signed_in)], csrf_token: Annotated[str | None, Form()] = None
) -> Session:
    """The session a form was sent from, its CSRF token checked."""
    if session is None:
        raise CsrfRefused("you are signed out; sign in again")
    check_csrf(session.csrf_token, csrf_token)
    return session


SignedIn = Annotated[Session | None, Depends(signed_in)]
FormSession = Annotated[Session, Depends(form_session)]
