"""Registry basic auth on the stack's registry: anonymous callers get 401, readers read, only the admin writes."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import httpx
import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

from aios.kafka.clients import access, registry_config
from aios.settings import ConnectionSettings

RECORD = json.dumps({"type": "record", "name": "Probe", "namespace": "aios.test", "fields": []})


@pytest.fixture(autouse=True)
def secure(connection: ConnectionSettings) -> None:
    if not access(connection).secure:
        pytest.skip("the stack runs with security off (AIOS_STACK_SECURITY=false)")


@pytest.fixture
def subject(schema_registry_url: str) -> Iterator[str]:
    """A fresh subject the admin registered one schema under; deleted afterwards."""
    name = f"auth-test-{uuid.uuid4().hex}-value"
    admin = SchemaRegistryClient(registry_config(schema_registry_url))
    admin.register_schema(name, Schema(RECORD, "AVRO"))
    yield name
    admin.delete_subject(name, permanent=False)
    admin.delete_subject(name, permanent=True)


def reader(connection: ConnectionSettings) -> tuple[str, str]:
    auth = access(connection, "audit").basic_auth()
    assert auth is not None
    return auth


def test_anonymous_and_wrong_passwords_get_401_on_reads_and_writes(schema_registry_url: str, subject: str) -> None:
    calls = [
        ("GET", "/subjects", None),
        ("GET", f"/subjects/{subject}/versions/latest", None),
        ("POST", f"/subjects/{subject}/versions", {"schema": RECORD}),
        ("DELETE", f"/subjects/{subject}", None),
        ("PUT", "/config", {"compatibility": "NONE"}),
    ]
    for auth in (None, ("admin", "wrong-password"), ("nobody", "x")):
        for method, path, body in calls:
            answer = httpx.request(method, f"{schema_registry_url}{path}", json=body, auth=auth, timeout=10)
            assert answer.status_code == 401, (auth, method, path)
            assert answer.headers["www-authenticate"].startswith("Basic")
    assert httpx.get(f"{schema_registry_url}/healthz", timeout=10).status_code == 200


def test_a_reader_reads_and_looks_up_but_every_write_is_403(
    schema_registry_url: str, subject: str, connection: ConnectionSettings
) -> None:
    auth = reader(connection)
    with httpx.Client(base_url=schema_registry_url, auth=auth, timeout=10) as client:
        assert subject in client.get("/subjects").json()
        assert client.get(f"/subjects/{subject}/versions/latest").status_code == 200
        assert client.post(f"/subjects/{subject}", json={"schema": RECORD}).status_code == 200  # lookup is a read
        writes = [
            client.post(f"/subjects/{subject}/versions", json={"schema": RECORD}),
            client.delete(f"/subjects/{subject}"),
            client.delete(f"/subjects/{subject}/versions/1"),
            client.put("/config", json={"compatibility": "NONE"}),
            client.put(f"/config/{subject}", json={"compatibility": "NONE"}),
            client.delete(f"/config/{subject}"),
        ]
        assert [answer.status_code for answer in writes] == [403] * len(writes)
        assert client.get(f"/subjects/{subject}/versions").json() == [1]


def test_confluent_kafka_client_of_a_reader_is_refused_registration(
    schema_registry_url: str, connection: ConnectionSettings
) -> None:
    user, password = reader(connection)
    client = SchemaRegistryClient({"url": schema_registry_url, "basic.auth.user.info": f"{user}:{password}"})
    with pytest.raises(SchemaRegistryError) as refused:
        client.register_schema(f"auth-test-{uuid.uuid4().hex}-value", Schema(RECORD, "AVRO"))
    assert refused.value.http_status_code == 403
