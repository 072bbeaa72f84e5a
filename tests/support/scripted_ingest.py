"""A tiny real HTTP server shaped like the ingest API, answering as a test scripts; it records every arrival.

It runs uvicorn in a thread on a free loopback port, so the SDK under test goes through real
sockets, timeouts and headers, while the test decides each answer (429 twice, then 202...).
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


@dataclass(frozen=True)
class Arrival:
    idempotency_key: str | None
    authorization: str | None
    body: Any
    at: float
    """time.monotonic() when the request arrived."""


Answer = tuple[int, dict[str, Any], dict[str, str]]
"""Status, JSON body and headers of a scripted answer."""
Script = Callable[[Arrival, int], Answer]
"""The answer to an arrival, given how many requests (this one included) carried its idempotency key."""


def accept(arrival: Arrival, seen: int) -> Answer:
    """The script of a healthy server: every event accepted, its id derived from its idempotency key."""
    return 202, {"event_id": f"ev-{arrival.idempotency_key}", "status_url": "unused"}, {}


@dataclass
class ScriptedIngest:
    script: Script
    answer_after_s: float = 0.0
    """How long each answer takes, so that concurrent requests overlap and `max_in_flight` means something."""
    url: str = ""
    arrivals: list[Arrival] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0

    def app(self) -> FastAPI:
        app = FastAPI()
        accepted: set[str] = set()

        @app.post("/v1/events")
        async def submit(request: Request) -> JSONResponse:
            arrival = Arrival(
                request.headers.get("idempotency-key"),
                request.headers.get("authorization"),
                json.loads(await request.body()),
                time.monotonic(),
            )
            self.arrivals.append(arrival)
            seen = sum(1 for a in self.arrivals if a.idempotency_key == arrival.idempotency_key)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            await asyncio.sleep(self.answer_after_s)
            self.in_flight -= 1
            status, body, headers = self.script(arrival, seen)
            if status == 202:
                accepted.add(body["event_id"])
            return JSONResponse(body, status_code=status, headers=headers)

        @app.get("/v1/events/{event_id}")
        async def status(event_id: str) -> JSONResponse:
            if event_id not in accepted:
                return JSONResponse({"detail": "no such event for this tenant"}, status_code=404)
            return JSONResponse({"event_id": event_id, "stage": "received"})

        return app

    def keys(self) -> list[str | None]:
        return [arrival.idempotency_key for arrival in self.arrivals]


@contextmanager
def scripted_ingest(script: Script = accept, answer_after_s: float = 0.0) -> Iterator[ScriptedIngest]:
    server_state = ScriptedIngest(script, answer_after_s)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    server_state.url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(server_state.app(), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "scripted ingest server did not start"
        time.sleep(0.01)
    try:
        yield server_state
    finally:
        server.should_exit = True
        thread.join(10)
        listener.close()
