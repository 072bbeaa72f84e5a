"""The registry through confluent-kafka's own client and Avro serdes, as producers will use it.

Every test works on fresh subjects, so the suite can run against a shared, long-lived registry.
Clients cache what they registered or fetched; checks that must reach the server use a new one.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Mapping
from typing import Any

import pytest
from confluent_kafka.schema_registry import Schema, SchemaReference, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.serialization import MessageField, SerializationContext

from aios.kafka.clients import registry_config

pytestmark = pytest.mark.integration

USER_V1: dict[str, Any] = {
    "type": "record",
    "name": "User",
    "namespace": "aios.test",
    "fields": [{"name": "id", "type": "long"}, {"name": "name", "type": "string"}],
}
USER_V2_OPTIONAL_EMAIL: dict[str, Any] = {
    **USER_V1,
    "fields": [*USER_V1["fields"], {"name": "email", "type": ["null", "string"], "default": None}],
}
USER_V2_REQUIRED_EMAIL: dict[str, Any] = {
    **USER_V1,
    "fields": [*USER_V1["fields"], {"name": "email", "type": "string"}],
}


def avro(schema: Mapping[str, Any], *, indent: int | None = None) -> Schema:
    return Schema(json.dumps(schema, indent=indent), "AVRO")


def as_json(schema: Schema) -> Any:
    assert schema.schema_str is not None
    return json.loads(schema.schema_str)


@pytest.fixture
def client(schema_registry_url: str) -> SchemaRegistryClient:
    return SchemaRegistryClient(registry_config(schema_registry_url))


@pytest.fixture
def subject() -> str:
    return f"registry-test-{uuid.uuid4().hex}-value"


def fresh(url: str) -> SchemaRegistryClient:
    """A client with empty caches, so every answer comes from the server."""
    return SchemaRegistryClient(registry_config(url))


def test_register_is_idempotent_and_readable(
    client: SchemaRegistryClient, subject: str, schema_registry_url: str
) -> None:
    schema_id = client.register_schema(subject, avro(USER_V1))

    reader = fresh(schema_registry_url)
    assert reader.register_schema(subject, avro(USER_V1, indent=4)) == schema_id
    assert reader.get_versions(subject) == [1]

    latest = reader.get_latest_version(subject)
    assert (latest.subject, latest.version, latest.schema_id) == (subject, 1, schema_id)
    assert as_json(latest.schema) == USER_V1

    by_id = fresh(schema_registry_url).get_schema(schema_id)
    assert as_json(by_id) == USER_V1
    assert by_id.schema_type == "AVRO"

    found = fresh(schema_registry_url).lookup_schema(subject, avro(USER_V1, indent=2))
    assert (found.version, found.schema_id) == (1, schema_id)


def test_same_schema_under_two_subjects_shares_one_id(
    client: SchemaRegistryClient, subject: str, schema_registry_url: str
) -> None:
    other = f"{subject}-copy"
    schema_id = client.register_schema(subject, avro(USER_V1))
    assert client.register_schema(other, avro(USER_V1)) == schema_id

    reader = fresh(schema_registry_url)
    assert {subject, other} <= set(reader.get_subjects())
    assert {subject, other} <= set(reader.get_subjects_by_schema_id(schema_id))
    usages = {(v.subject, v.version) for v in reader.get_schema_versions(schema_id)}
    assert {(subject, 1), (other, 1)} <= usages


def test_compatible_evolution_adds_a_version(
    client: SchemaRegistryClient, subject: str, schema_registry_url: str
) -> None:
    first = client.register_schema(subject, avro(USER_V1))
    second = client.register_schema(subject, avro(USER_V2_OPTIONAL_EMAIL))
    assert second != first

    reader = fresh(schema_registry_url)
    assert reader.get_versions(subject) == [1, 2]
    assert reader.get_version(subject, 1).schema_id == first
    assert reader.get_latest_version(subject).version == 2


def test_lookup_of_an_unregistered_schema_is_40403(client: SchemaRegistryClient, subject: str) -> None:
    client.register_schema(subject, avro(USER_V1))
    with pytest.raises(SchemaRegistryError) as caught:
        client.lookup_schema(subject, avro(USER_V2_OPTIONAL_EMAIL))
    assert (caught.value.http_status_code, caught.value.error_code) == (404, 40403)

    with pytest.raises(SchemaRegistryError) as caught:
        client.lookup_schema(f"{subject}-missing", avro(USER_V1))
    assert caught.value.error_code == 40401


def test_incompatible_registration_is_409_with_the_reason(client: SchemaRegistryClient, subject: str) -> None:
    client.register_schema(subject, avro(USER_V1))

    assert client.test_compatibility(subject, avro(USER_V2_OPTIONAL_EMAIL))
    assert not client.test_compatibility(subject, avro(USER_V2_REQUIRED_EMAIL))
    assert not client.test_compatibility_all_versions(subject, avro(USER_V2_REQUIRED_EMAIL))

    with pytest.raises(SchemaRegistryError) as caught:
        client.register_schema(subject, avro(USER_V2_REQUIRED_EMAIL))
    assert (caught.value.http_status_code, caught.value.error_code) == (409, 409)
    assert "READER_FIELD_MISSING_DEFAULT_VALUE" in caught.value.error_message
    assert "email" in caught.value.error_message
    assert client.get_versions(subject) == [1]


def test_subject_config_none_allows_an_incompatible_change(client: SchemaRegistryClient, subject: str) -> None:
    client.register_schema(subject, avro(USER_V1))

    with pytest.raises(SchemaRegistryError) as caught:
        client.get_compatibility(subject)
    assert caught.value.error_code == 40408

    assert client.set_compatibility(subject, "none") == {"compatibility": "NONE"}
    assert client.get_compatibility(subject) == "NONE"
    client.register_schema(subject, avro(USER_V2_REQUIRED_EMAIL))
    assert client.get_versions(subject) == [1, 2]

    assert client.delete_config(subject).compatibility_level == "NONE"
    with pytest.raises(SchemaRegistryError) as caught:
        client.get_compatibility(subject)
    assert caught.value.error_code == 40408


def test_invalid_compatibility_level_is_42203(client: SchemaRegistryClient, subject: str) -> None:
    with pytest.raises(SchemaRegistryError) as caught:
        client.set_compatibility(subject, "SIDEWAYS")
    assert (caught.value.http_status_code, caught.value.error_code) == (422, 42203)


def test_global_config_is_readable(client: SchemaRegistryClient) -> None:
    assert client.get_compatibility() in {
        "NONE",
        "BACKWARD",
        "BACKWARD_TRANSITIVE",
        "FORWARD",
        "FORWARD_TRANSITIVE",
        "FULL",
        "FULL_TRANSITIVE",
    }


def test_delete_subject_soft_then_permanent(
    client: SchemaRegistryClient, subject: str, schema_registry_url: str
) -> None:
    schema_id = client.register_schema(subject, avro(USER_V1))
    client.register_schema(subject, avro(USER_V2_OPTIONAL_EMAIL))

    with pytest.raises(SchemaRegistryError) as caught:
        client.delete_subject(subject, permanent=True)
    assert caught.value.error_code == 40405

    assert client.delete_subject(subject) == [1, 2]
    reader = fresh(schema_registry_url)
    assert subject not in reader.get_subjects()
    assert subject in reader.get_subjects(deleted=True)
    with pytest.raises(SchemaRegistryError) as caught:
        reader.get_versions(subject)
    assert caught.value.error_code == 40401
    # Data written with a deleted version must stay readable.
    assert as_json(reader.get_schema(schema_id)) == USER_V1

    assert client.delete_subject(subject, permanent=True) == [1, 2]
    assert subject not in fresh(schema_registry_url).get_subjects(deleted=True)


def test_delete_version(client: SchemaRegistryClient, subject: str, schema_registry_url: str) -> None:
    client.register_schema(subject, avro(USER_V1))
    client.register_schema(subject, avro(USER_V2_OPTIONAL_EMAIL))

    assert client.delete_version(subject, 2) == 2
    reader = fresh(schema_registry_url)
    assert reader.get_versions(subject) == [1]
    assert reader.get_latest_version(subject).version == 1
    with pytest.raises(SchemaRegistryError) as caught:
        reader.get_version(subject, 2)
    assert caught.value.error_code == 40402
    assert reader.get_version(subject, 2, deleted=True).version == 2


def test_invalid_version_is_42202(client: SchemaRegistryClient, subject: str) -> None:
    client.register_schema(subject, avro(USER_V1))
    with pytest.raises(SchemaRegistryError) as caught:
        client.get_version(subject, 0)
    assert (caught.value.http_status_code, caught.value.error_code) == (422, 42202)


def test_invalid_schema_is_422(client: SchemaRegistryClient, subject: str) -> None:
    with pytest.raises(SchemaRegistryError) as caught:
        client.register_schema(subject, Schema('{"type": "record", "name": "Broken"}', "AVRO"))
    assert (caught.value.http_status_code, caught.value.error_code) == (422, 42201)
    assert "fields" in caught.value.error_message


def test_unsupported_schema_type_and_references_are_422(client: SchemaRegistryClient, subject: str) -> None:
    with pytest.raises(SchemaRegistryError) as caught:
        client.register_schema(subject, Schema('{"type": "object"}', "JSON"))
    assert caught.value.error_code == 42201
    assert "AVRO" in caught.value.error_message

    referencing = Schema(json.dumps(USER_V1), "AVRO", [SchemaReference("aios.test.Other", "other-value", 1)])
    with pytest.raises(SchemaRegistryError) as caught:
        client.register_schema(subject, referencing)
    assert caught.value.error_code == 42201
    assert "references" in caught.value.error_message


def test_only_avro_is_supported(client: SchemaRegistryClient) -> None:
    assert client.get_schema_types() == ["AVRO"]


def test_avro_serde_round_trip(schema_registry_url: str) -> None:
    topic = f"registry-test-{uuid.uuid4().hex}"
    context = SerializationContext(topic, MessageField.VALUE)
    serializer = AvroSerializer(fresh(schema_registry_url), json.dumps(USER_V2_OPTIONAL_EMAIL))
    deserializer = AvroDeserializer(fresh(schema_registry_url))
    user = {"id": 7, "name": "Ada", "email": "ada@example.org"}

    payload = serializer(user, context)

    assert payload is not None
    schema_id = int.from_bytes(payload[1:5], "big")
    assert payload[0] == 0
    registered = fresh(schema_registry_url).get_latest_version(f"{topic}-value")
    assert registered.schema_id == schema_id
    assert deserializer(payload, context) == user


def test_concurrent_registration_gives_one_id_and_one_version(subject: str, schema_registry_url: str) -> None:
    threads_count = 8
    barrier = threading.Barrier(threads_count)
    ids: list[int] = []
    errors: list[BaseException] = []

    def register() -> None:
        registrar = fresh(schema_registry_url)
        barrier.wait()
        try:
            ids.append(registrar.register_schema(subject, avro(USER_V1)))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=register) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert len(ids) == threads_count
    assert len(set(ids)) == 1
    assert fresh(schema_registry_url).get_versions(subject) == [1]
