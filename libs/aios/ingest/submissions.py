"""The write path, `POST /v1/events` and `POST /v1/webhooks/{source}`, as plain ASGI in front of FastAPI.

Every event enters here, so these two routes skip FastAPI's layers (dependency injection, its
middlewares, routing, request and response objects): at 64 callers those took about half of a
worker's time, and serving the two routes without them raised the edge's rate by about 45%
(docs/benchmarks.md). The answers are those of the documented API: `OPERATIONS` adds both routes
to the OpenAPI document, and the contract test checks the live service against it. Every other
request goes on to the FastAPI app.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import StringConstraints, TypeAdapter, ValidationError
from starlette.datastructures import Headers
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from aios.errors import Refused
from aios.ingest.accept import Submission
from aios.ingest.errors import (
    DEPENDENCY_UNAVAILABLE,
    DEPENDENCY_UNAVAILABLE_REASON,
    InvalidEvent,
    PayloadTooLarge,
    RequestTimeout,
    UnsupportedMediaType,
)
from aios.ingest.models import REFUSALS
from aios.ingest.parts import IngestParts
from aios.ingest.settings import IngestSettings
from aios.tenants.errors import SignatureInvalid
from aios.tenants.signatures import SIGNATURE_HEADER, parse_signature, signed_digest, verify_signature

log = logging.getLogger(__name__)

IDEMPOTENCY_KEY_MAX_LENGTH = 255
SOURCE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
_IDEMPOTENCY_KEY = TypeAdapter(Annotated[str, StringConstraints(max_length=IDEMPOTENCY_KEY_MAX_LENGTH)])
_SOURCE = TypeAdapter(Annotated[str, StringConstraints(pattern=SOURCE_PATTERN)])


class ClientGone(Exception):
    """The caller hung up before its whole body arrived: nothing is accepted, nobody to answer."""


class SubmissionRoutes:
    """Serves the two submission routes itself and hands every other request to `app`."""

    def __init__(self, app: ASGIApp, parts: Callable[[], IngestParts], settings: IngestSettings) -> None:
        self.app = app
        self.parts = parts
        self.settings = settings
        self.events = Route("/v1/events", self, methods=["POST"])
        self.webhooks = Route("/v1/webhooks/{source}", self, methods=["POST"])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for route in (self.events, self.webhooks):
                match, child = route.matches(scope)
                if match is Match.NONE:
                    continue
                scope["route"] = route  # HTTP metrics are labelled by the route's template
                if match is Match.PARTIAL:
                    await respond(send, 405, {"detail": "Method Not Allowed"}, {"Allow": "POST"})
                else:
                    await self.submit(route, child["path_params"], Headers(scope=scope), receive, send)
                return
        await self.app(scope, receive, send)

    async def submit(
        self, route: Route, path_params: dict[str, str], headers: Headers, receive: Receive, send: Send
    ) -> None:
        try:
            if route is self.events:
                event_id, tenant_id = await self.submit_event(headers, receive)
            else:
                event_id, tenant_id = await self.submit_webhook(path_params["source"], headers, receive)
            answer = await self.parts().answers.answer(event_id, tenant_id, headers)
        except ClientGone:
            return
        except Refused as exc:
            await respond(send, exc.status, {"detail": exc.detail}, exc.headers)
        except DEPENDENCY_UNAVAILABLE as exc:
            log.warning("POST %s refused: a dependency is unavailable: %r", route.path, exc)
            await respond(send, 503, {"detail": DEPENDENCY_UNAVAILABLE_REASON}, {"Retry-After": "1"})
        else:
            await respond(send, answer.status, answer.body, answer.headers)

    async def submit_event(self, headers: Headers, receive: Receive) -> tuple[str, str]:
        """The accepted event's id and its tenant."""
        idempotency_key = idempotency_key_of(headers)
        parts = self.parts()
        tenant = await parts.auth.tenant(headers.get("authorization"))
        body = await self.read_json_body(headers, receive)
        submission = Submission(
            tenant.tenant_id, body, source="api", route="/v1/events", idempotency_key=idempotency_key
        )
        return await parts.acceptor.accept(submission), tenant.tenant_id

    async def submit_webhook(self, source: str, headers: Headers, receive: Receive) -> tuple[str, str]:
        checked_source(source)
        idempotency_key = idempotency_key_of(headers)
        body = await self.read_json_body(headers, receive)
        parts = self.parts()
        tenant_id, idempotency_key = await verify_webhook(parts, self.settings, source, headers, body, idempotency_key)
        submission = Submission(
            tenant_id,
            body,
            source=f"webhook:{source}",
            route=f"/v1/webhooks/{source}",
            idempotency_key=idempotency_key,
        )
        return await parts.acceptor.accept(submission), tenant_id

    async def read_json_body(self, headers: Headers, receive: Receive) -> bytes:
        """The raw body, refusing a wrong content type (415) or a body over the limit (413) early, and a
        body that has not arrived within `body_timeout_s` (408, closing the connection)."""
        media_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != "application/json":
            raise UnsupportedMediaType("send the event as application/json")
        limit = self.settings.max_body_bytes
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise too_large(limit)
        timeout_s = self.settings.body_timeout_s
        try:
            async with asyncio.timeout(timeout_s):
                return await read_body(receive, limit)
        except TimeoutError:
            raise RequestTimeout(f"the body did not arrive within {timeout_s:g} s", {"Connection": "close"}) from None


async def verify_webhook(
    parts: IngestParts,
    settings: IngestSettings,
    source: str,
    headers: Headers,
    body: bytes,
    idempotency_key: str | None,
) -> tuple[str, str]:
    """The tenant of a webhook request signed over `body`, and its idempotency key; refuses a bad signature or a
    replay. Without an Idempotency-Key header, the key is what was signed, so a resent request is the same event."""
    signature = parse_signature(headers.get(SIGNATURE_HEADER))
    found = await parts.auth.webhook_source(source)
    if found is None:
        raise SignatureInvalid("unknown webhook source or bad signature")
    verify_signature(signature, body, found.secrets, time.time(), settings.signature_tolerance_s)
    signed = signed_digest(source, signature.timestamp, body)
    # The header is not signed: absent, the key is what was signed.
    idempotency_key = idempotency_key or f"signed:{signed}"
    if not await parts.replay.admits(signed, idempotency_key):
        raise SignatureInvalid("this signed request was already used under another Idempotency-Key (replay)")
    return found.tenant_id, idempotency_key


async def read_body(receive: Receive, limit: int) -> bytes:
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        body.extend(message.get("body", b""))
        if len(body) > limit:
            raise too_large(limit)
        if not message.get("more_body", False):
            return bytes(body)


def too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"body is larger than {limit} bytes")


def idempotency_key_of(headers: Headers) -> str | None:
    key = headers.get("idempotency-key")
    return None if key is None else _checked(_IDEMPOTENCY_KEY, key, "header", "idempotency-key")


def checked_source(source: str) -> str:
    """A webhook source name from the path, or a 400."""
    return _checked(_SOURCE, source, "path", "source")


def _checked(adapter: TypeAdapter[str], value: str, *loc: str) -> str:
    """`value`, or a 400 naming `loc` in pydantic's words, as FastAPI's parameter checks gave."""
    try:
        return adapter.validate_python(value)
    except ValidationError as exc:
        raise InvalidEvent(exc.errors(), *loc) from None


async def respond(send: Send, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
    body = json.dumps(payload).encode()
    raw_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    for name, value in (headers or {}).items():
        raw_headers.append((name.lower().encode("latin-1"), value.encode("latin-1")))
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


def json_content(name: str) -> dict[str, Any]:
    """OpenAPI content: a JSON body of the component schema `name`."""
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}


def _header(name: str, description: str, **schema: Any) -> dict[str, Any]:
    return {
        "in": "header",
        "name": name,
        "required": False,
        "description": description,
        "schema": {"type": "string", **schema},
    }


def _operation(summary: str, operation_id: str, parameters: list[dict[str, Any]]) -> dict[str, Any]:
    responses = dict(WAIT_RESPONSES)
    for status, reason in REFUSALS.items():
        responses[str(status)] = {"description": reason, "content": json_content("Problem")}
    return {
        "post": {
            "summary": summary,
            "operationId": operation_id,
            "parameters": [*parameters, PREFER_HEADER],
            "requestBody": {"required": True, "content": json_content("EventIn")},
            "responses": responses,
        }
    }


PREFER_HEADER = _header(
    "Prefer",
    "`wait=N` (RFC 7240): answer 200 with the outcome if the event reaches one within N seconds (capped by the"
    " server), else 202 as without it.",
)
PREFERENCE_APPLIED = {
    "description": "`wait=N`: how long the server waited for the outcome (only when the caller asked to wait).",
    "schema": {"type": "string"},
}
WAIT_RESPONSES: dict[str, dict[str, Any]] = {
    "200": {
        "description": "Accepted, and the event reached an outcome within the `Prefer: wait=N` asked for.",
        "headers": {"Preference-Applied": PREFERENCE_APPLIED},
        "content": json_content("EventOutcome"),
    },
    "202": {
        "description": "Accepted: the event is in Kafka (if the caller asked to wait: with no outcome in time).",
        "headers": {"Preference-Applied": PREFERENCE_APPLIED},
        "content": json_content("Accepted"),
    },
}
"""The answers of a route that accepts an event (`SubmissionAnswers.answer`), as OpenAPI responses."""
_IDEMPOTENCY_KEY_HEADER = _header(
    "Idempotency-Key",
    "Retries with the same key within 24 h get the same event.",
    maxLength=IDEMPOTENCY_KEY_MAX_LENGTH,
)
OPERATIONS: dict[str, dict[str, Any]] = {
    "/v1/events": _operation(
        "Submit an event (API key)",
        "submit_event",
        [_header("Authorization", "`Bearer <api key>`"), _IDEMPOTENCY_KEY_HEADER],
    ),
    "/v1/webhooks/{source}": _operation(
        "Submit an event (signed webhook)",
        "submit_webhook",
        [
            {"in": "path", "name": "source", "required": True, "schema": {"type": "string", "pattern": SOURCE_PATTERN}},
            _header(SIGNATURE_HEADER, '`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`'),
            _IDEMPOTENCY_KEY_HEADER,
        ],
    ),
}
"""Both routes as OpenAPI path items: FastAPI documents only the routes it serves itself."""
