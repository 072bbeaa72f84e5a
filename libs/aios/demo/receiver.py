"""`python -m aios.demo.receiver`: the demo tenants' own systems, where webhook, ERP, claims and email actions land.

It checks each webhook delivery's `AIOS-Signature` with the secret the demo configured (calls to the
ERP and claims-system stand-ins under `/systems/` carry it as a bearer token instead), takes mail on
a small SMTP port, and appends one JSON line per delivery (path, idempotency key, body) to a file:
the demo counts side effects, and duplicates, from the receiver's own records rather than from any
AIOS log.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from aios.paths import project_root
from aios.tenants.errors import SignatureInvalid
from aios.tenants.signatures import SIGNATURE_HEADER, parse_signature, verify_signature


class ReceiverSettings(BaseSettings):
    """Read from `AIOS_DEMO_RECEIVER_*`; the demo sets them when it starts the receiver."""

    model_config = SettingsConfigDict(env_prefix="AIOS_DEMO_RECEIVER_", extra="ignore", frozen=True)

    port: int = Field(default=28070, description="HTTP port of the receiver.")
    secret: SecretStr = Field(default=SecretStr(""), description="The demo tenant's webhook signing secret.")
    deliveries: Path = Field(
        default_factory=lambda: project_root() / ".aios" / "demo" / "deliveries.jsonl",
        description="File the deliveries are appended to, one JSON object per line.",
    )
    tolerance_s: int = Field(default=300, description="Largest clock difference a signature may show.")
    smtp_port: int = Field(default=28071, description="Port of the SMTP sink the document tenants' email goes to.")


SYSTEMS = "systems/"
"""Path prefix of the ERP and claims-system stand-ins (bearer token, no signature)."""


def create_app(settings: ReceiverSettings) -> FastAPI:
    settings.deliveries.parent.mkdir(parents=True, exist_ok=True)

    def record(path: str, idempotency_key: str | None, body: Any) -> None:
        line = {"received_at": time.time(), "path": path, "idempotency_key": idempotency_key, "body": body}
        with settings.deliveries.open("a", encoding="utf-8") as out:
            out.write(json.dumps(line) + "\n")

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        server = await asyncio.start_server(
            lambda reader, writer: _smtp_session(reader, writer, record), "127.0.0.1", settings.smtp_port
        )
        async with server:
            yield

    app = FastAPI(title="AIOS demo receiver", lifespan=lifespan)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/{path:path}")
    async def deliver(path: str, request: Request) -> JSONResponse:
        body = await request.body()
        secret = settings.secret.get_secret_value()
        if path.startswith(SYSTEMS):
            if not hmac.compare_digest(request.headers.get("Authorization", ""), f"Bearer {secret}"):
                return JSONResponse({"detail": "missing or wrong bearer token"}, status_code=401)
        else:
            try:
                signature = parse_signature(request.headers.get(SIGNATURE_HEADER))
                verify_signature(signature, body, [secret], time.time(), settings.tolerance_s)
            except SignatureInvalid as exc:
                return JSONResponse({"detail": str(exc)}, status_code=401)
        key = request.headers.get("Idempotency-Key")
        record(f"/{path}", key, json.loads(body or b"{}"))
        return JSONResponse({"received": key, "id": f"{path}:{key}"})

    return app


async def _smtp_session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, record: Any) -> None:
    """Just enough SMTP for smtplib: every command accepted, each message recorded by its Message-ID."""
    writer.write(b"220 demo receiver\r\n")
    try:
        while line := await reader.readline():
            command = line[:4].upper()
            if command == b"DATA":
                writer.write(b"354 end with <CRLF>.<CRLF>\r\n")
                await writer.drain()
                message = (await reader.readuntil(b"\r\n.\r\n")).decode("utf-8", "replace")
                found = [
                    h.split(":", 1)[1].strip() for h in message.splitlines() if h.lower().startswith("message-id:")
                ]
                record("/smtp", found[0] if found else None, {"message": message[:2000]})
                writer.write(b"250 queued\r\n")
            elif command == b"QUIT":
                writer.write(b"221 bye\r\n")
                break
            else:
                writer.write(b"250 ok\r\n")
            await writer.drain()
    finally:
        writer.close()


def main() -> None:
    settings = ReceiverSettings()
    uvicorn.run(create_app(settings), host="127.0.0.1", port=settings.port, log_level="warning")


if __name__ == "__main__":
    main()
