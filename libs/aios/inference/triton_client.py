"""Talking to a Triton Inference Server over HTTP: one client per thread, and what a failed request means.

Shared by the classify worker's Triton backend and the Triton draft generator. geventhttpclient
clients are not thread-safe, so each thread gets its own. Anything that says "the server is not
there right now" (refused connection, 5xx from a proxy, a model still reloading after a server
restart) is a `TransientError`, so the consumer loop retries the batch instead of dead-lettering
good events.
"""

from __future__ import annotations

import http.client
import threading
from urllib.parse import urlsplit

import tritonclient.http as triton_http
from tritonclient.utils import InferenceServerException

from aios.inference.errors import InferenceError
from aios.kafka.errors import TransientError

# Statuses of a server that is down, overloaded or behind a proxy that lost it; anything else is the request's fault.
_TRANSIENT_STATUSES = frozenset({"429", "502", "503", "504"})
UNREACHABLE: tuple[type[Exception], ...] = (OSError, http.client.HTTPException)
"""What a request raises when it never got an answer."""
REQUEST_ERRORS: tuple[type[Exception], ...] = (*UNREACHABLE, InferenceServerException)
"""Everything a Triton request may raise that `request_failure` knows how to read."""


def request_failure(exc: Exception, url: str, model: str) -> Exception:
    """The AIOS error for a failed request: transient when retrying the same batch later can succeed."""
    if isinstance(exc, UNREACHABLE):
        return TransientError(f"Triton at {url} is unreachable: {exc!r}")
    if isinstance(exc, InferenceServerException):
        # A server restarting under supervisor answers "unknown model" until it has reloaded its models.
        if exc.status() in _TRANSIENT_STATUSES or "unknown model" in (exc.message() or ""):
            return TransientError(f"Triton at {url} cannot run {model} now: {exc}")
        return InferenceError(f"Triton at {url} failed on {model}: {exc}")
    return exc


class TritonClients:
    """HTTP clients to one server (`host:port` or a URL), one per calling thread, all closed by `close`."""

    def __init__(self, url: str, timeout_s: float) -> None:
        parsed = urlsplit(url if "://" in url else f"http://{url}")
        self.url = url
        self.timeout_s = timeout_s
        self._address = parsed.netloc
        self._ssl = parsed.scheme == "https"
        self._local = threading.local()
        self._clients: list[triton_http.InferenceServerClient] = []
        self._lock = threading.Lock()

    def get(self) -> triton_http.InferenceServerClient:
        """This thread's client, made on first use."""
        client: triton_http.InferenceServerClient | None = getattr(self._local, "client", None)
        if client is None:
            client = triton_http.InferenceServerClient(
                self._address, ssl=self._ssl, connection_timeout=self.timeout_s, network_timeout=self.timeout_s
            )
            self._local.client = client
            with self._lock:
                self._clients.append(client)
        return client

    def close(self) -> None:
        with self._lock:
            for client in self._clients:
                client.close()
            self._clients.clear()
        self._local = threading.local()
