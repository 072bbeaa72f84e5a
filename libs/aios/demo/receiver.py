"""`python -m aios.demo.receiver`: the demo tenant's own system, where its webhook actions land.

It checks each delivery's `AIOS-Signature` with the secret the demo configured, and appends one
JSON line per delivery (path, idempotency key, body) to a file: the demo counts side effects, and
duplicates, from the receiver's own records rather than from any AIOS log.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

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


def create_app(settings: ReceiverSettings) -> FastAPI:
    app = FastAPI(title="AIOS demo receiver")
    settings.deliveries.parent.mkdir(parents=True, exist_ok=True)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/{path:path}")
    async def deliver(path: str, request: Request) -> JSONResponse:
        body = await request.body()
        try:
            signature = parse_signature(request.headers.get(SIGNATURE_HEADER))
            verify_signature(signature, body, [settings.secret.get_secret_value()], time.time(), settings.tolerance_s)
        except SignatureInvalid as exc:
            return JSONResponse({"detail": str(exc)}, status_code=401)
        line = {
            "received_at": time.time(),
            "path": f"/{path}",
            "idempotency_key": request.headers.get("Idempotency-Key"),
            "body": json.loads(body or b"{}"),
        }
        with settings.deliveries.open("a", encoding="utf-8") as out:
            out.write(json.dumps(line) + "\n")
        return JSONResponse({"received": line["idempotency_key"]})

    return app


def main() -> None:
    settings = ReceiverSettings()
    uvicorn.run(create_app(settings), host="127.0.0.1", port=settings.port, log_level="warning")


if __name__ == "__main__":
    main()
