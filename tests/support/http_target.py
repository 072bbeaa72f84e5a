"""A real HTTP receiver for connector tests: records requests, answers by rules, honours Idempotency-Key.

It runs aiohttp on its own thread and port. Rules make a path fail with a status (N times or
always) or answer slowly; `stop()` and `start()` take it down and bring it back on the same port.
Like a well-behaved API it performs a request's effect once per Idempotency-Key and answers a
repeat with the first answer, so tests can count effects apart from requests.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from aios.tenants.errors import SignatureInvalid
from aios.tenants.signatures import SIGNATURE_HEADER, parse_signature, verify_signature


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    at: float
    signed: bool | None
    """Whether the AIOS-Signature verified with the target's secret; None when it has none."""
    status: int = 0

    @property
    def key(self) -> str | None:
        return self.headers.get("Idempotency-Key")


@dataclass
class _Rule:
    status: int | None = None
    times: int | None = None
    delay_s: float = 0.0


@dataclass
class HttpTarget:
    secret: str | None = None
    port: int = field(default_factory=free_port)
    requests: list[Received] = field(default_factory=list)
    effects: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Idempotency key → the answer of the one time its effect was performed."""

    def __post_init__(self) -> None:
        self._rules: dict[str, _Rule] = {}
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def fail(self, path: str, status: int, times: int | None = None) -> None:
        """Answer `status` on `path` (prefix), `times` times or always."""
        self._rules[path] = _Rule(status=status, times=times)

    def slow(self, path: str, delay_s: float) -> None:
        self._rules[path] = _Rule(delay_s=delay_s)

    def received(self, path: str = "") -> list[Received]:
        with self._lock:
            return [r for r in self.requests if r.path.startswith(path)]

    def wait_for(self, count: int, path: str = "", timeout_s: float = 60.0) -> list[Received]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = self.received(path)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise TimeoutError(f"{len(self.received(path))} of {count} requests to {path!r} arrived")

    def start(self) -> HttpTarget:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(ready,), daemon=True)
        self._thread.start()
        assert ready.wait(10), "the HTTP target did not start"
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        loop, runner = self._loop, self._runner
        assert runner is not None
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        assert self._thread is not None
        self._thread.join(10)
        self._loop = None

    def _serve(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        loop.run_until_complete(self._runner.setup())
        loop.run_until_complete(web.TCPSite(self._runner, "127.0.0.1", self.port).start())
        ready.set()
        loop.run_forever()
        loop.close()

    def _rule(self, path: str) -> _Rule | None:
        matches = [prefix for prefix in self._rules if path.startswith(prefix)]
        return self._rules[max(matches, key=len)] if matches else None

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        received = Received(
            request.method,
            request.path,
            dict(request.headers),
            json.loads(raw) if raw else None,
            time.time(),
            self._signed(request.headers.get(SIGNATURE_HEADER), raw),
        )
        with self._lock:
            self.requests.append(received)
        rule = self._rule(request.path)
        if rule is not None and rule.delay_s:
            await asyncio.sleep(rule.delay_s)
        if rule is not None and rule.status is not None and (rule.times is None or rule.times > 0):
            if rule.times is not None:
                rule.times -= 1
            received.status = rule.status
            return web.json_response({"error": "refused by the test"}, status=rule.status)
        key = received.key or f"no-key-{len(self.requests)}"
        with self._lock:
            answer = self.effects.setdefault(key, {"id": f"ref-{len(self.effects) + 1}", "path": request.path})
        received.status = 200
        return web.json_response(answer)

    def _signed(self, header: str | None, body: bytes) -> bool | None:
        if self.secret is None:
            return None
        try:
            verify_signature(parse_signature(header), body, [self.secret], time.time(), 300)
        except SignatureInvalid:
            return False
        return True
