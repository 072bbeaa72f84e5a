"""Where a worker's /metrics binds: loopback by default, every address when AIOS_METRICS_HOST says so (containers)."""

from __future__ import annotations

import socket

import httpx
import pytest

from aios.observability.metrics import serve_metrics


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers(host: str, port: int) -> bool:
    try:
        return httpx.get(f"http://{host}:{port}/metrics", timeout=5).status_code == 200
    except httpx.ConnectError:
        return False


def test_by_default_only_loopback_127_0_0_1_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIOS_METRICS_HOST", raising=False)
    port = _free_port()
    serve_metrics(port)
    assert _answers("127.0.0.1", port)
    assert not _answers("127.0.0.2", port)  # another address of this machine: refused


def test_aios_metrics_host_binds_every_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIOS_METRICS_HOST", "0.0.0.0")
    port = _free_port()
    serve_metrics(port)
    assert _answers("127.0.0.2", port)
