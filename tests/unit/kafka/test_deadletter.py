import uuid

from confluent_kafka import Message

from aios.kafka.deadletter import ErrorKind, dead_letter_record
from aios.schemas.records import DeadLetter, TraceContext

TRACE = TraceContext(traceparent="00-" + "1" * 32 + "-" + "2" * 16 + "-01")


def letter(key: bytes | None, decoded: dict[str, object] | None = None) -> DeadLetter:
    message = Message(topic="aios.events.received", partition=2, offset=7, key=key, value=b"\0\0\0\0\1garbled")
    return dead_letter_record(
        message, service="classify", kind=ErrorKind.UNDECODABLE, reason="undecodable", attempts=1, trace=TRACE,
        decoded=decoded,
    )  # fmt: skip


def test_an_unreadable_record_keeps_the_tenant_and_event_of_its_key() -> None:
    """Keys are `<tenant>:<event id>`: the dead letter, its audit row and the event's status stay with the tenant."""
    tenant, event_id = str(uuid.uuid4()), str(uuid.uuid4())
    value = letter(f"{tenant}:{event_id}".encode())
    assert (value.tenant_id, value.event_id) == (tenant, event_id)
    assert (value.original_topic, value.original_partition, value.original_offset) == (
        "aios.events.received",
        2,
        7,
    )


def test_a_key_that_names_no_tenant_leaves_the_record_unknown() -> None:
    tenant = uuid.uuid4()
    for key in (None, b"", b"not-a-tenant:e-1", b"\xff\xfe", tenant.hex.encode(), f"{tenant.hex}:e-1".encode()):
        value = letter(key)
        assert value.tenant_id == "unknown"
        assert value.event_id.startswith("sha256:")


def test_a_decoded_record_names_itself() -> None:
    value = letter(f"{uuid.uuid4()}:other".encode(), decoded={"tenant_id": "t-1", "event_id": "e-1"})
    assert (value.tenant_id, value.event_id) == ("t-1", "e-1")
