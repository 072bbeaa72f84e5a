"""Reviewer accounts (one set per tenant) and their sign-in sessions, in PostgreSQL.

A session token lives only in the reviewer's cookie; the database keeps its SHA-256 and the
session's CSRF token, which every form of that session must send back.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass

import asyncpg

from aios.review.errors import ReviewerExists, ReviewerNotFound
from aios.review.passwords import hash_password_off_loop, verify_password_off_loop
from aios.tenants.errors import InvalidNameError
from aios.tenants.store import NAME_PATTERN, Tenant


@dataclass(frozen=True)
class Reviewer:
    reviewer_id: str
    username: str
    tenant_id: str
    tenant_name: str


@dataclass(frozen=True)
class Session:
    reviewer: Reviewer
    csrf_token: str


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ReviewerAccounts:
    """Needs the tables of migration `0005_decide_review`."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def add(self, tenant: Tenant, username: str, password: str) -> Reviewer:
        if not NAME_PATTERN.fullmatch(username):
            raise InvalidNameError(f"reviewer name {username!r} must be 1-64 letters, digits, '.', '_' or '-'")
        reviewer_id = uuid.uuid4()
        password_hash = await hash_password_off_loop(password)
        inserted = await self._pool.fetchval(
            "INSERT INTO reviewers (reviewer_id, tenant_id, username, password_hash) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (tenant_id, username) DO NOTHING RETURNING reviewer_id",
            reviewer_id,
            tenant.tenant_id,
            username,
            password_hash,
        )
        if inserted is None:
            raise ReviewerExists(username, tenant.name)
        return Reviewer(str(reviewer_id), username, tenant.tenant_id, tenant.name)

    async def set_password(self, tenant: Tenant, username: str, password: str) -> None:
        """A new password; the reviewer's open sessions end."""
        password_hash = await hash_password_off_loop(password)
        async with self._pool.acquire() as conn, conn.transaction():
            reviewer_id = await conn.fetchval(
                "UPDATE reviewers SET password_hash = $3 WHERE tenant_id = $1 AND username = $2 RETURNING reviewer_id",
                tenant.tenant_id,
                username,
                password_hash,
            )
            if reviewer_id is None:
                raise ReviewerNotFound(username, tenant.name)
            await conn.execute("DELETE FROM review_sessions WHERE reviewer_id = $1", reviewer_id)

    async def remove(self, tenant: Tenant, username: str) -> None:
        deleted = await self._pool.fetchval(
            "DELETE FROM reviewers WHERE tenant_id = $1 AND username = $2 RETURNING reviewer_id",
            tenant.tenant_id,
            username,
        )
        if deleted is None:
            raise ReviewerNotFound(username, tenant.name)

    async def list(self, tenant: Tenant) -> list[str]:
        rows = await self._pool.fetch(
            "SELECT username FROM reviewers WHERE tenant_id = $1 ORDER BY username", tenant.tenant_id
        )
        return [row["username"] for row in rows]

    async def authenticate(self, tenant_name: str, username: str, password: str) -> Reviewer | None:
        """The reviewer these credentials belong to, or None (which part was wrong is not told)."""
        row = await self._pool.fetchrow(
            "SELECT r.reviewer_id, r.password_hash, t.tenant_id, t.name FROM reviewers r"
            " JOIN tenants t ON t.tenant_id = r.tenant_id WHERE t.name = $1 AND r.username = $2",
            tenant_name,
            username,
        )
        if not await verify_password_off_loop(row["password_hash"] if row else None, password) or row is None:
            return None
        return Reviewer(str(row["reviewer_id"]), username, str(row["tenant_id"]), row["name"])

    async def open_session(self, reviewer: Reviewer, ttl_s: int) -> tuple[str, Session]:
        """A new session: the token for the cookie, and the session with its CSRF token."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        await self._pool.execute(
            "INSERT INTO review_sessions (token_hash, reviewer_id, csrf_token, expires_at)"
            " VALUES ($1, $2, $3, now() + make_interval(secs => $4))",
            _token_hash(token),
            reviewer.reviewer_id,
            csrf,
            float(ttl_s),
        )
        await self._pool.execute("DELETE FROM review_sessions WHERE expires_at < now()")
        return token, Session(reviewer, csrf)

    async def session(self, token: str | None, idle_s: int) -> Session | None:
        """The session of `token` unless expired or idle `idle_s`; this request renews its idle time."""
        if not token:
            return None
        row = await self._pool.fetchrow(
            "UPDATE review_sessions s SET last_seen_at = now()"
            " FROM reviewers r JOIN tenants t ON t.tenant_id = r.tenant_id"
            " WHERE r.reviewer_id = s.reviewer_id AND s.token_hash = $1 AND s.expires_at > now()"
            " AND s.last_seen_at > now() - make_interval(secs => $2)"
            " RETURNING s.csrf_token, r.reviewer_id, r.username, t.tenant_id, t.name",
            _token_hash(token),
            float(idle_s),
        )
        if row is None:
            return None
        reviewer = Reviewer(str(row["reviewer_id"]), row["username"], str(row["tenant_id"]), row["name"])
        return Session(reviewer, row["csrf_token"])

    async def close_session(self, token: str) -> None:
        await self._pool.execute("DELETE FROM review_sessions WHERE token_hash = $1", _token_hash(token))
