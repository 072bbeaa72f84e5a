import base64
import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from confluent_kafka import Message

from aios.cli.tail import consumer_config, human_line, jsonable, record_json


def test_avro_values_become_json_with_bytes_as_base64_and_times_as_iso() -> None:
    value = {
        "event_id": "e-1",
        "occurred_at": datetime(2025, 3, 1, 9, 30, tzinfo=UTC),
        "day": date(2025, 3, 1),
        "original": b"\x00\x01\xff",
        "amount": Decimal("12.50"),
        "ref": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "nested": [{"raw": b"hi"}, None, 3, 0.5, True],
    }
    converted = jsonable(value)
    assert converted == {
        "event_id": "e-1",
        "occurred_at": "2025-03-01T09:30:00+00:00",
        "day": "2025-03-01",
        "original": base64.b64encode(b"\x00\x01\xff").decode(),
        "amount": "12.50",
        "ref": "12345678-1234-5678-1234-567812345678",
        "nested": [{"raw": "aGk="}, None, 3, 0.5, True],
    }
    json.dumps(converted)


def test_a_record_carries_its_coordinates_key_and_headers() -> None:
    message = Message(
        topic="aios.events.received",
        partition=2,
        offset=17,
        key=b"e-1",
        headers=[("traceparent", b"00-abc-01"), ("blob", b"\xff\xfe"), ("empty", None)],
    )
    assert record_json(message, {"text": "hi"}) == {
        "topic": "aios.events.received",
        "partition": 2,
        "offset": 17,
        "key": "e-1",
        "headers": [["traceparent", "00-abc-01"], ["blob", "//4="], ["empty", None]],
        "value": {"text": "hi"},
    }


def test_a_record_without_key_or_headers() -> None:
    record = record_json(Message(topic="t", partition=0, offset=0), None)
    assert (record["key"], record["headers"], record["value"]) == (None, [], None)


def test_the_human_line_is_compact() -> None:
    record = record_json(Message(topic="t", partition=1, offset=5, key=b"k"), {"text": "é", "n": 1})
    assert human_line(record) == 't[1]@5 key=k {"text":"é","n":1}'
    assert human_line(record_json(Message(topic="t", partition=1, offset=6), {})) == "t[1]@6 {}"


def test_without_a_group_tail_uses_a_throwaway_one_and_never_auto_commits() -> None:
    first, second = consumer_config("b:1", None, True), consumer_config("b:1", None, False)
    assert first["group.id"] != second["group.id"]
    assert (first["auto.offset.reset"], second["auto.offset.reset"]) == ("earliest", "latest")
    assert consumer_config("b:1", "ops", False)["group.id"] == "ops"
    assert not first["enable.auto.commit"]
