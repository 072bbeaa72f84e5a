"""HTTP health probes: is a service answering 200 yet, and waiting until it does."""

from __future__ import annotations

import time

import httpx


def answers_ok(url: str, timeout_s: float = 1.0, headers: dict[str, str] | None = None) -> bool:
    try:
        return httpx.get(url, timeout=timeout_s, headers=headers).status_code == 200
    except httpx.HTTPError:
        return False


def wait_until_ok(url: str, timeout_s: float, interval_s: float = 0.3, headers: dict[str, str] | None = None) -> bool:
    """True as soon as `url` answers 200 (asked with `headers`); False when `timeout_s` passed first."""
    deadline = time.monotonic() + timeout_s
    while not answers_ok(url, headers=headers):
        if time.monotonic() > deadline:
            return False
        time.sleep(interval_s)
    return True
