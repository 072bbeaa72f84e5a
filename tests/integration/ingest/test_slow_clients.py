"""Slow clients cannot hold the edge: stalled bodies get 408 (or 503 past the connection limit) and are
closed, so a worker whose file descriptors they would exhaust keeps answering real requests."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from aios.settings import ConnectionSettings
from aios.tenants.store import IssuedKey
from tests.integration.ingest.conftest import IngestProcess

BODY_TIMEOUT_S = 2
STALLED = 300
"""More than the worker's 256 file descriptors could hold at once."""


@pytest.fixture
def small_ingest(connection: ConnectionSettings, tmp_path: Path) -> Iterator[IngestProcess]:
    service = IngestProcess(
        connection,
        tmp_path,
        max_open_files=256,
        workers="1",
        body_timeout_s=str(BODY_TIMEOUT_S),
        max_connections="100",
        quota_rate_per_s="1000",
        quota_burst="2000",
    )
    service.start(ready="/readyz")
    yield service
    service.stop()


def stalled_submission(port: int, tenant: IssuedKey) -> socket.socket:
    """A submission whose headers promise 100 bytes of body, of which 9 ever come."""
    conn = socket.create_connection(("127.0.0.1", port), timeout=30)
    conn.sendall(
        b"POST /v1/events HTTP/1.1\r\nHost: ingest\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {tenant.api_key}\r\nContent-Length: 100\r\n\r\n".encode()
        + b'{"type": '
    )
    return conn


def answer(conn: socket.socket) -> bytes:
    """The status line the server sent before closing, or b"" when it closed without one."""
    try:
        return conn.recv(4096).split(b"\r\n", 1)[0]
    except ConnectionResetError:
        return b""


def test_stalled_bodies_are_closed_and_real_requests_get_answers_in_time(
    small_ingest: IngestProcess, tenant: IssuedKey
) -> None:
    stalled = [stalled_submission(small_ingest.port, tenant) for _ in range(STALLED)]
    try:
        deadline = time.monotonic() + BODY_TIMEOUT_S + 10
        with httpx.Client(base_url=small_ingest.url, timeout=deadline - time.monotonic()) as client:
            for n in range(5):
                while True:  # as the SDK does: 503 (the connection limit) is retried
                    response = client.post(
                        "/v1/events",
                        json={"type": "support.ticket", "text": f"real request {n}"},
                        headers={"Authorization": f"Bearer {tenant.api_key}"},
                    )
                    if response.status_code != 503 or time.monotonic() > deadline:
                        break
                    time.sleep(0.2)
                assert response.status_code == 202, response.text
        assert time.monotonic() < deadline
        statuses = {answer(conn) for conn in stalled}
        assert statuses <= {b"HTTP/1.1 408 Request Timeout", b"HTTP/1.1 503 Service Unavailable", b""}, statuses
        assert b"HTTP/1.1 408 Request Timeout" in statuses
    finally:
        for conn in stalled:
            conn.close()
