"""One HTTP request for the webhook and http connectors, with failures sorted into connector errors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
from pydantic import SecretStr

from aios.connectors.errors import RemoteRefused, TransportError

IDEMPOTENCY_HEADER = "Idempotency-Key"


def json_headers(configured: Mapping[str, SecretStr], action_id: str) -> dict[str, str]:
    """The tenant's headers, then the JSON content type and the action id as the idempotency key."""
    headers = {name: value.get_secret_value() for name, value in configured.items()}
    headers.update({"Content-Type": "application/json", IDEMPOTENCY_HEADER: action_id})
    return headers


async def send(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    body: bytes | None,
    headers: Mapping[str, str],
    timeout_s: float,
) -> httpx.Response:
    """The response to a 2xx request; TransportError when unreachable or slow, RemoteRefused for other statuses."""
    try:
        response = await client.request(method, url, content=body, headers=dict(headers), timeout=timeout_s)
    except httpx.TimeoutException:
        raise TransportError(f"{method} {url}: no answer within {timeout_s:g}s") from None
    except httpx.TransportError as exc:
        raise TransportError(f"{method} {url}: {type(exc).__name__}: {exc}") from None
    if not response.is_success:
        raise RemoteRefused(
            f"{method} {url} answered {response.status_code}: {response.text[:300]}", response.status_code
        )
    return response


def reference(response: httpx.Response, field: str | None = "id") -> str:
    """The receiver's id for what it did: a field of a JSON answer, its Location, or the status."""
    if field:
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and body.get(field) not in (None, ""):
            return str(body[field])
    return response.headers.get("location") or f"HTTP {response.status_code}"
