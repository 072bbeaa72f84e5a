"""Every answer of the ingest API, against the live service, Kafka, Redis and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import asyncpg
import httpx
import pytest
from typer.testing import CliRunner

from aios.audit.chain import AuditEntry, canonical_json
from aios.audit.store import AuditStore
from aios.cli.main import app
from aios.kafka.serde import Codecs
from aios.kafka.topics import DEADLETTER
from aios.settings import ConnectionSettings
from aios.tenants.signatures import sign, signature_header
from aios.tenants.store import IssuedKey, IssuedWebhookSecret
from tests.support.kafka_io import decoded_values, read_topic

RECEIVED = "aios.events.received"
BODY = {"type": "support.ticket", "text": "I was charged twice", "attributes": {"customer": "C-1"}}


def auth(key: IssuedKey) -> dict[str, str]:
    return {"Authorization": f"Bearer {key.api_key}"}


def received_records(connection: ConnectionSettings, event_ids: set[str], timeout_s: float = 30) -> list[dict]:
    """The decoded records of `aios.events.received` with these ids (all copies, if duplicated)."""
    codecs = Codecs(connection.schema_registry_url)
    found: list[dict] = []

    def enough(messages: list) -> bool:
        found[:] = [value for value in decoded_values(codecs, RECEIVED, messages) if value["event_id"] in event_ids]
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


def test_a_dead_lettered_event_shows_it_in_its_status_with_the_reason(
    ingest_url: str, tenant: IssuedKey, connection: ConnectionSettings
) -> None:
    """The status is read from the audit trail: a dead letter recorded there for the tenant ends `received`."""
    response = httpx.post(f"{ingest_url}/v1/events", json=BODY, headers=auth(tenant))
    event_id = response.json()["event_id"]
    letter = {"event_id": event_id, "tenant_id": tenant.tenant_id, "service": "classify", "reason": "undecodable: x"}

    async def audit_the_dead_letter() -> None:
        pool = await asyncpg.create_pool(connection.postgres_dsn.get_secret_value(), min_size=1, max_size=1)
        try:
            entry = AuditEntry(
                tenant.tenant_id, event_id, DEADLETTER.name, f"test.deadletter.{uuid.uuid4()}", 0, 0,
                datetime.now(UTC), None, None, canonical_json(letter),
            )  # fmt: skip
            await AuditStore(pool).append([entry])
        finally:
            await pool.close()

    asyncio.run(audit_the_dead_letter())
    status = httpx.get(response.json()["status_url"], headers=auth(tenant)).json()
    assert (status["stage"], status["dead_letter_reason"]) == ("dead_lettered", "undecodable: x")


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
        # parse, but no stage could read them back once converted to UTC: refused here, not dead-lettered later
        ({"type": "support.ticket", "text": "x", "occurred_at": "0001-01-01T00:00:00+14:00"}, ["occurred_at"]),
        ({"type": "support.ticket", "text": "x", "occurred_at": "9999-12-31T23:00:00-05:00"}, ["occurred_at"]),
        ({"type": "support.ticket", "text": "x", "occurred_at": "1969-12-31T23:59:59Z"}, ["occurred_at"]),
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


def post_webhook(
    ingest_url: str, source: str, body: bytes, header: str | None, idempotency_key: str | None = None
) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["AIOS-Signature"] = header
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
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
    replay = post_webhook(ingest_url, webhook.source, body, valid, idempotency_key="another-key")
    assert replay.status_code == 401
    assert "replay" in replay.json()["detail"]

    tampered = body.replace(b"twice", b"thrice")
    assert (
        post_webhook(ingest_url, webhook.source, tampered, signature_header(webhook.secret, now, body)).status_code
        == 401
    )


def test_every_spelling_of_one_signed_request_is_that_request_and_adds_no_event(
    ingest_url: str, webhook: IssuedWebhookSecret, connection: ConnectionSettings
) -> None:
    """Replays are recognised by what was signed (source, t, body), not by the header's spelling:
    resent without a key it is a retry (the first event's id, no new record), with another key it is refused."""
    body = json.dumps({**BODY, "text": f"replayed {uuid.uuid4()}"}).encode()
    now = int(time.time())
    v1 = sign(webhook.secret, now, body)
    first = post_webhook(ingest_url, webhook.source, body, f"t={now},v1={v1}")
    assert first.status_code == 202, first.text
    event_id = first.json()["event_id"]
    spellings = [
        f"t={now},v1={v1.upper()}",
        f"t={now} ,  v1={v1}",
        f"v1={v1},t={now}",
        f"t={now},nonce=1,v1={v1}",
        f"t={now},v1={'0' * 64},v1={v1}",
    ]
    for spelling in spellings:
        again = post_webhook(ingest_url, webhook.source, body, spelling)
        assert again.status_code == 202, (spelling, again.text)
        assert again.json()["event_id"] == event_id, spelling
        replay = post_webhook(ingest_url, webhook.source, body, spelling, idempotency_key=f"new {spelling}")
        assert replay.status_code == 401, spelling
        assert "replay" in replay.json()["detail"]
    for timestamp in (f"0{now}", f"+{now}", f"{now}.0", f"{now:_}"):
        other = post_webhook(ingest_url, webhook.source, body, f"t={timestamp},v1={v1}")
        assert other.status_code == 401, timestamp
        assert "digits only" in other.json()["detail"]
    assert [r["event_id"] for r in received_records(connection, {event_id})] == [event_id]


def test_a_replay_of_a_keyed_webhook_under_another_key_or_none_is_refused(
    ingest_url: str, webhook: IssuedWebhookSecret
) -> None:
    body = json.dumps({**BODY, "text": f"keyed {uuid.uuid4()}"}).encode()
    header = signature_header(webhook.secret, int(time.time()), body)
    first = post_webhook(ingest_url, webhook.source, body, header, idempotency_key="k-1")
    assert first.status_code == 202, first.text
    retry = post_webhook(ingest_url, webhook.source, body, header, idempotency_key="k-1")
    assert retry.json()["event_id"] == first.json()["event_id"]
    assert post_webhook(ingest_url, webhook.source, body, header).status_code == 401
    assert post_webhook(ingest_url, webhook.source, body, header, idempotency_key="k-2").status_code == 401


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


def test_a_revoked_api_key_is_refused_at_once(ingest_url: str, tenant: IssuedKey) -> None:
    """Every worker has the key cached (AIOS_INGEST_AUTH_CACHE_S, 30 s) when it is revoked."""
    for _ in range(6):  # reach both workers
        assert httpx.post(f"{ingest_url}/v1/events", json=BODY, headers=auth(tenant)).status_code == 202
    revoked = CliRunner().invoke(app, ["keys", "revoke", tenant.name])
    assert revoked.exit_code == 0, revoked.output
    time.sleep(0.5)  # the announcement travels through PostgreSQL
    codes = {httpx.post(f"{ingest_url}/v1/events", json=BODY, headers=auth(tenant)).status_code for _ in range(6)}
    assert codes == {401}


def test_a_revoked_webhook_secret_is_refused_at_once(ingest_url: str, webhook: IssuedWebhookSecret) -> None:
    def signed(text: str) -> int:
        body = json.dumps({**BODY, "text": text}).encode()
        return post_webhook(
            ingest_url, webhook.source, body, signature_header(webhook.secret, int(time.time()), body)
        ).status_code

    assert {signed(f"before {n}") for n in range(6)} == {202}
    revoked = CliRunner().invoke(app, ["webhooks", "revoke", webhook.source])
    assert revoked.exit_code == 0, revoked.output
    time.sleep(0.5)
    assert {signed(f"after {n}") for n in range(6)} == {401}
