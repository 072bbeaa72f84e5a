"""The payout simulator's API in-process: idempotency, faults, persistence across a restart, the counts."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from aios.payouts_sim.app import create_app
from aios.payouts_sim.settings import PayoutsSimSettings

KEY = {"Authorization": "Bearer sk_test"}
BODY = {"amount": "120.50", "currency": "EUR", "iban": "DE89370400440532013000", "reference": "invoice:tax:DE1:INV-1"}


def _settings(path: Path) -> PayoutsSimSettings:
    return PayoutsSimSettings(state_path=path / "payouts.sqlite3", api_key=SecretStr("sk_test"))


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(_settings(tmp_path))) as client:
        yield client


def _create(client: TestClient, key: str, body: dict[str, Any] = BODY) -> Any:
    return client.post("/v1/payouts", json=body, headers={**KEY, "Idempotency-Key": key})


def test_the_same_key_and_body_give_the_same_payout_and_another_body_a_409(client: TestClient) -> None:
    first = _create(client, "a1")
    again = _create(client, "a1")
    other = _create(client, "a1", {**BODY, "amount": "999.00"})
    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 409)
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert client.get("/admin/stats", headers=KEY).json()["by_reference"] == {BODY["reference"]: {"made": 1, "live": 1}}


def test_a_create_without_key_or_api_key_or_with_a_bad_body_is_refused_with_a_reason(client: TestClient) -> None:
    assert client.post("/v1/payouts", json=BODY, headers=KEY).json()["error"]["code"] == "idempotency_key_missing"
    assert client.post("/v1/payouts", json=BODY, headers={"Idempotency-Key": "k"}).status_code == 401
    bad = _create(client, "k", {**BODY, "amount": "-1.00"})
    assert bad.status_code == 422
    assert client.get("/admin/stats", headers=KEY).json()["payouts"] == 0


def test_cancel_get_and_list_by_reference(client: TestClient) -> None:
    made = _create(client, "a1", {**BODY, "execute_on": "2027-01-31"}).json()
    assert made["status"] == "scheduled"
    cancelled = client.post(f"/v1/payouts/{made['id']}/cancel", headers=KEY).json()
    assert cancelled["status"] == "cancelled"
    again = client.post(f"/v1/payouts/{made['id']}/cancel", headers=KEY).json()
    assert again["cancelled_at"] == cancelled["cancelled_at"], "cancelling twice changes nothing"
    assert client.get(f"/v1/payouts/{made['id']}", headers=KEY).json()["status"] == "cancelled"
    assert client.get("/v1/payouts/po_missing", headers=KEY).status_code == 404
    listed = client.get("/v1/payouts", params={"reference": BODY["reference"]}, headers=KEY).json()["data"]
    assert [p["id"] for p in listed] == [made["id"]]
    assert client.get("/admin/stats", headers=KEY).json()["by_reference"][BODY["reference"]] == {"made": 1, "live": 0}


def test_faults_refuse_fail_n_times_and_answer_slowly(client: TestClient) -> None:
    client.post("/admin/faults", json={"mode": "unavailable", "operation": "create", "times": 2}, headers=KEY)
    assert [_create(client, "a1").status_code for _ in range(3)] == [503, 503, 201]
    client.post("/admin/faults", json={"mode": "refuse", "times": 1}, headers=KEY)
    refused = _create(client, "a2", {**BODY, "reference": "r2"})
    assert (refused.status_code, refused.json()["error"]["code"]) == (422, "account_closed")
    client.post("/admin/faults", json={"mode": "slow", "delay_s": 0.5, "times": 1}, headers=KEY)
    started = time.monotonic()
    assert _create(client, "a3", {**BODY, "reference": "r3"}).status_code == 201
    assert time.monotonic() - started >= 0.5
    client.post("/admin/faults", json={"mode": "timeout", "delay_s": 0.1}, headers=KEY)
    assert _create(client, "a4", {**BODY, "reference": "r4"}).status_code == 504
    assert client.delete("/admin/faults", headers=KEY).json() == {"faults": []}
    stats = client.get("/admin/stats", headers=KEY).json()
    assert (stats["payouts"], sorted(stats["by_reference"])) == (2, [BODY["reference"], "r3"]), "none refused"


def test_payouts_survive_a_restart_and_a_second_live_payout_of_a_reference_is_reported(tmp_path: Path) -> None:
    with TestClient(create_app(_settings(tmp_path))) as client:
        first = _create(client, "a1").json()
    with TestClient(create_app(_settings(tmp_path))) as client:
        assert _create(client, "a1").json()["id"] == first["id"]
        _create(client, "a2")
        stats = client.get("/admin/stats", headers=KEY).json()
    assert stats["paid_twice"] == [BODY["reference"]]
