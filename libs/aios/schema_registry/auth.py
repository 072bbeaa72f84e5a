"""HTTP basic auth for the registry, the way confluent-kafka's client sends it (`basic.auth.user.info`).

Every principal may read (lookups and compatibility checks are POSTs, but reads); only an admin may
register a schema, change a compatibility level or delete. No or wrong credentials: 401; a reader's
write: 403. The users file (salted hashes and roles, written by the stack) is re-read when it changes,
so a team added by `aios consumers add` can read at once.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from pathlib import Path
from typing import Any

from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp

from aios.kafka.credentials import password_matches

OPEN_PATHS = frozenset({"/healthz"})
"""Answered without credentials: the stack's health probe."""

_READ_POSTS = (re.compile(r"^/subjects/[^/]+$"), re.compile(r"^/compatibility/"))
"""POSTs that change nothing: schema lookup under a subject, compatibility tests."""


def is_write(method: str, path: str) -> bool:
    if method in ("GET", "HEAD", "OPTIONS"):
        return False
    if method == "POST":
        return not any(pattern.match(path) for pattern in _READ_POSTS)
    return True


def credentials(header: str | None) -> tuple[str, str] | None:
    """User and password of an `Authorization: Basic …` header, None when absent or malformed."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        user, sep, password = base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if sep else None


class UsersFile:
    """The registry's users, reloaded when the file's modification time changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: float | None = None
        self._users: dict[str, dict[str, str]] = {}

    def users(self) -> dict[str, dict[str, str]]:
        stamp = self.path.stat().st_mtime_ns if self.path.exists() else None
        if stamp != self._stamp:
            self._users = json.loads(self.path.read_text()) if stamp is not None else {}
            self._stamp = stamp
        return self._users

    def role(self, user: str, password: str) -> str | None:
        """The role of a user whose password matches, else None."""
        entry = self.users().get(user)
        return entry["role"] if entry is not None and password_matches(entry, password) else None


def _refusal(status: int, message: str) -> Response:
    headers = {"WWW-Authenticate": 'Basic realm="aios-schema-registry"'} if status == 401 else {}
    body: dict[str, Any] = {"error_code": status * 100 + 1, "message": message}
    return JSONResponse(body, status, headers=headers, media_type="application/vnd.schemaregistry.v1+json")


class BasicAuthMiddleware(BaseHTTPMiddleware):
    def __init__(self, app: ASGIApp, users: UsersFile) -> None:
        super().__init__(app)
        self.users = users

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        path = request.url.path
        if path in OPEN_PATHS:
            return await call_next(request)
        given = credentials(request.headers.get("authorization"))
        if given is None:
            return _refusal(401, "Unauthorized: this registry needs HTTP basic credentials.")
        role = self.users.role(*given)
        if role is None:
            return _refusal(401, "Unauthorized: unknown user or wrong password.")
        if role != "admin" and is_write(request.method, path):
            return _refusal(403, f"Forbidden: {given[0]} may read, but only an admin may {request.method} {path}.")
        return await call_next(request)
