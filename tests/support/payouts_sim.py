"""The payout simulator as a real process (`python -m services.payouts_sim`) on a port and state file of its own."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

from tests.support.http_target import free_port
from tests.support.services import ServiceProcess

API_KEY = "sk_test_payouts"


class PayoutSim:
    def __init__(self, folder: Path, api_key: str = API_KEY) -> None:
        self.folder = folder
        self.api_key = api_key
        self.port = free_port()
        self.process: ServiceProcess | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> PayoutSim:
        env = {
            "AIOS_PAYOUTS_SIM_PORT": str(self.port),
            "AIOS_PAYOUTS_SIM_STATE_PATH": str(self.folder / "payouts.sqlite3"),
            "AIOS_PAYOUTS_SIM_API_KEY": self.api_key,
        }
        self.process = ServiceProcess("services.payouts_sim", env, self.folder / "payouts-sim.log")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).is_success:
                    return self
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError(f"the payout simulator did not start: {self.process.log()[-2000:]}")

    def stop(self) -> int:
        assert self.process is not None
        return self.process.stop()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.api_key}"}
        response = httpx.request(method, f"{self.url}{path}", headers=headers, timeout=10, **kwargs)
        response.raise_for_status()
        return response.json()

    def fault(self, **fault: Any) -> None:
        """Add a fault (`aios.payouts_sim.faults.Fault`'s fields)."""
        self._call("POST", "/admin/faults", json=fault)

    def clear_faults(self) -> None:
        self._call("DELETE", "/admin/faults")

    def stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = self._call("GET", "/admin/stats")
        return stats

    def payouts(self, reference: str) -> list[dict[str, Any]]:
        listed: list[dict[str, Any]] = self._call("GET", "/v1/payouts", params={"reference": reference})["data"]
        return listed

    def wait_for(self, reference: str, count: int, timeout_s: float = 30) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = self.payouts(reference)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"{len(self.payouts(reference))} of {count} payouts of {reference} were made")
