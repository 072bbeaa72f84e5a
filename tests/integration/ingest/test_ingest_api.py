"""Every answer of the ingest API, against the live service, Kafka, Redis and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable

import httpx
import pytest
from typer.testing import CliRunner

from aios.cli.main import app
from aios.ingest.signatures import sign, signature_header
from aios.kafka.serde import Codecs
from aios.settings import ConnectionSettings
from aios.tenants.store import IssuedKey, IssuedWebhookSecret
from tests.support.kafka_io import read_topic, value_of

RECEIVED = "aios.events.received"
BODY = {"type": "support.ticket", "text": "I was charged twice", "attributes": {"customer": "C-1"}}


def auth(key: IssuedKey) -> dict[str, str]:
    return {"Authorization": f"Bearer {key.api_key}"}


def received_records(connection: ConnectionSettings, event_ids: set[str], timeout_s: float = 30) -> list[dict]:
    """The decoded records of `aios.events.received` with these ids (all copies, if duplicated)."""
    codecs = Codecs(connection.schema_registry_url)
    found: list[dict] = []

    def enough(messages: list) -> bool:
        found.clear()
        for message in messages:
            value = codecs.decode(RECEIVED, value_of(message))
            if value["event_id"] in event_ids:
                found.append(value)
        return {v["event_id"] for v in found} >= event_ids

    read_topic(connection.kafka_bootstrap, RECEIVED, enough, timeout_s)
    return list(found)


def test_accepted_event_is_in_kafka_and_its_status_readable(
    ingest_url: str, tenant: IssuedKey, connection: ConnectionSettings
) -> None:
    response = httpx.post(f"{ingest_url}/v1/events", json=BODY, headers=auth(tenant))
    assert response.status_code == 202, response.text
    event_id = response.json()["event_id"]
    [record] = received_records(connection, {event_id})
    assert record["tenant_id"] == tenant.tenant_id
    assert record["text"] == BODY["text"] and record["attributes"] == BODY["attributes"]
    assert record["source"] == "api"
    assert record["trace"]["traceparent"].startswith("00-")

    status = httpx.get(response.json()["status_url"], headers=auth(tenant))
    assert status.status_code == 200
    # `received` at least: a pipeline started by `aios up` may already have taken the event further
    assert status.json()["stages"][0] == "received"
    assert status.json()["stage"] == status.json()["stages"][-1]


def test_no_202_without_the_record_in_kafka(ingest_url: str, tenant: IssuedKey, connection: ConnectionSettings) -> None:
    async def burst() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=ingest_url, headers=auth(tenant)) as client:
            return await asyncio.gather(
                *(client.post("/v1/events", json={**BODY, "text": f"burst {n}"}) for n in range(100))
            )

    responses = asyncio.run(burst())
    accepted = {r.json()["event_id"] for r in responses if r.status_code == 202}
    assert len(accepted) == 100
    assert {r["event_id"] for r in received_records(connection, accepted)} == accepted


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": "no type"}, ["type"]),
        ({"type": "Not A Type!", "text": "x"}, ["type"]),
        ({"type": "support.ticket", "text": ""}, ["text"]),
        ({"type": "support.ticket", "text": "x", "attributes": {"n": 1}}, ["attributes", "n"]),
        ({"type": "support.ticket", "text": "x", "occurred_at": "2026-01-01T00:00:00"}, ["occurred_at"]),
        ({"type": "support.ticket", "text": "x", "surprise": True}, ["surprise"]),
        # PostgreSQL text cannot hold NUL: refused here, not dead-lettered by review or search later
        ({"type": "support.ticket", "text": "a\u0000b"}, ["text"]),
        ({"type": "support.ticket", "text": "x", "attributes": {"n": "\u0000"}}, ["attributes", "n"]),
        ({"type": "support.ticket", "text": "x", "source_ref": "r\u0000"}, ["source_ref"]),
    ],
)
def test_invalid_fields_get_400_with_each_field_named(
    ingest_url: str, tenant: IssuedKey, body: dict, field: list[str]
) -> None:
    response = httpx.post(f"{ingest_url}/v1/events", json=body, headers=auth(tenant))
    assert response.status_code == 400
    assert field in [problem["loc"] for problem in response.json()["detail"]]


def test_invalid_json_gets_400(ingest_url: str, tenant: IssuedKey) -> None:
    response = httpx.post(
        f"{ingest_url}/v1/events", content=b"{not json", headers={**auth(tenant), "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["detail"][0]["type"] == "json_invalid"


@pytest.mark.parametrize("header", [None, "Bearer aios_unknown", "Basic dXNlcjpwYXNz", "Bearer"])
def test_missing_or_unknown_key_gets_401(ingest_url: str, header: str | None) -> None:
    headers = {"Authorization": header} if header is not None else {}
    response = httpx.post(f"{ingest_url}/v1/events", json=BODY, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_invalid_headers_and_path_get_400_naming_them(ingest_url: str, tenant: IssuedKey) -> None:
    too_long_key = httpx.post(
        f"{ingest_url}/v1/events", json=BODY, headers={**auth(tenant), "Idempotency-Key": "k" * 256}
    )
    assert too_long_key.status_code == 400
    assert [p["loc"] for p in too_long_key.json()["detail"]] == [["header", "idempotency-key"]]
    bad_source = httpx.post(f"{ingest_url}/v1/webhooks/-starts-with-a-dash", json=BODY)
    assert bad_source.status_code == 400
    assert [p["loc"] for p in bad_source.json()["detail"]] == [["path", "source"]]


def test_body_over_the_limit_gets_413(ingest_url: str, tenant: IssuedKey) -> None:
    response = httpx.post(f"{ingest_url}/v1/events", json={**BODY, "text": "x" * 300_000}, headers=auth(tenant))
    assert response.status_code == 413


def test_wrong_content_type_gets_415(ingest_url: str, tenant: IssuedKey) -> None:
    response = httpx.post(
        f"{ingest_url}/v1/events", content=json.dumps(BODY), headers={**auth(tenant), "Content-Type": "text/plain"}
    )
    assert response.status_code == 415


def test_a_retried_idempotency_key_gets_the_same_event_and_no_second_record(
    ingest_url: str, tenant: IssuedKey, connection: ConnectionSettings
) -> None:
    key = str(uuid.uuid4())
    headers = {**auth(tenant), "Idempotency-Key": key}
    first = httpx.post(f"{ingest_url}/v1/events", json=BODY, headers=headers)
    again = httpx.post(f"{ingest_url}/v1/events", json=BODY, headers=headers)
    assert first.status_code == again.status_code == 202
    assert first.json()["event_id"] == again.json()["event_id"]
    time.sleep(1)  # give a wrongly produced second copy time to arrive
    records = received_records(connection, {first.json()["event_id"]})
    assert len(records) == 1
    assert records[0]["idempotency_key"] == key

    different = httpx.post(f"{ingest_url}/v1/events", json={**BODY, "text": "other"}, headers=headers)
    assert different.status_code == 422


def test_spent_quota_gets_429_with_retry_after(
    ingest_url: str, tenant: IssuedKey, connection: ConnectionSettings
) -> None:
    quota = CliRunner().invoke(app, ["tenants", "quota", tenant.name, "--rate", "0.2", "--burst", "2"])
    assert quota.exit_code == 0, quota.output
    codes = [httpx.post(f"{ingest_url}/v1/events", json=BODY, headers=auth(tenant)).status_code for _ in range(4)]
    assert codes[:2] == [202, 202]
    refused = httpx.post(f"{ingest_url}/v1/events", json=BODY, headers=auth(tenant))
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 5


def test_another_tenants_event_is_404(
    ingest_url: str, tenant: IssuedKey, tenant_store_call: Callable[..., object]
) -> None:
    other = tenant_store_call("create_tenant", f"other-{uuid.uuid4().hex[:8]}")
    assert isinstance(other, IssuedKey)
    event_id = httpx.post(f"{ingest_url}/v1/events", json=BODY, headers=auth(tenant)).json()["event_id"]
    assert httpx.get(f"{ingest_url}/v1/events/{event_id}", headers=auth(other)).status_code == 404
    assert httpx.get(f"{ingest_url}/v1/events/{event_id}", headers=auth(tenant)).status_code == 200


def post_webhook(ingest_url: str, source: str, body: bytes, header: str | None) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["AIOS-Signature"] = header
    return httpx.post(f"{ingest_url}/v1/webhooks/{source}", content=body, headers=headers)


def test_signed_webhook_is_accepted_for_its_tenant(
    ingest_url: str, webhook: IssuedWebhookSecret, connection: ConnectionSettings
) -> None:
    body = json.dumps(BODY).encode()
    response = post_webhook(ingest_url, webhook.source, body, signature_header(webhook.secret, int(time.time()), body))
    assert response.status_code == 202, response.text
    [record] = received_records(connection, {response.json()["event_id"]})
    assert record["tenant_id"] == webhook.tenant_id
    assert record["source"] == f"webhook:{webhook.source}"


def test_forged_stale_replayed_and_missing_signatures_get_401(ingest_url: str, webhook: IssuedWebhookSecret) -> None:
    body = json.dumps(BODY).encode()
    now = int(time.time())
    forged = signature_header("whsec_not_the_secret", now, body)
    stale = signature_header(webhook.secret, now - 301, body)
    assert post_webhook(ingest_url, webhook.source, body, forged).status_code == 401
    assert post_webhook(ingest_url, webhook.source, body, stale).status_code == 401
    assert post_webhook(ingest_url, webhook.source, body, None).status_code == 401
    assert post_webhook(ingest_url, webhook.source, body, "t=abc,v1=").status_code == 401
    assert (
        post_webhook(ingest_url, "no-such-source", body, signature_header(webhook.secret, now, body)).status_code == 401
    )

    valid = signature_header(webhook.secret, now, body)
    assert post_webhook(ingest_url, webhook.source, body, valid).status_code == 202
    replay = post_webhook(ingest_url, webhook.source, body, valid)
    assert replay.status_code == 401
    assert "replay" in replay.json()["detail"]

    tampered = body.replace(b"twice", b"thrice")
    assert (
        post_webhook(ingest_url, webhook.source, tampered, signature_header(webhook.secret, now, body)).status_code
        == 401
    )


def test_rotated_secret_accepts_either_signature_while_both_are_active(
    ingest_url: str, webhook: IssuedWebhookSecret, tenant_store_call: Callable[..., object]
) -> None:
    rotated = tenant_store_call("add_webhook_source", webhook.source, webhook.tenant_id)
    assert isinstance(rotated, IssuedWebhookSecret)
    time.sleep(0.1)
    body = json.dumps(BODY).encode()
    now = int(time.time())
    both = f"t={now},v1={sign(webhook.secret, now, body)},v1={sign(rotated.secret, now, body)}"
    only_new = f"t={now + 1},v1={sign(rotated.secret, now + 1, body)}"
    assert post_webhook(ingest_url, webhook.source, body, both).status_code == 202
    assert post_webhook(ingest_url, webhook.source, body, only_new).status_code == 202
