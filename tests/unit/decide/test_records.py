"""A by-tenant record says where it was first read, whatever headers it came with."""

from __future__ import annotations

from aios.decide.records import SOURCE_HEADER, Origin, Record


def test_a_forwarded_record_carries_its_origin_once() -> None:
    record = Record(b"k", b"v", [("traceparent", b"00-abc"), (SOURCE_HEADER, b'{"stale": true}')], 1.5)
    forwarded = Record(b"k", b"v", record.forwarded(Origin("aios.events.enriched", 2, 41)), 1.5)
    assert forwarded.origin() == Origin("aios.events.enriched", 2, 41)
    assert [name for name, _ in forwarded.headers] == ["traceparent", SOURCE_HEADER]


def test_the_origin_places_the_record_for_its_dead_letter() -> None:
    message = Origin("aios.review.completed", 1, 7).message(Record(b"k", b"value", [("h", b"x")], 0.0))
    assert (message.topic(), message.partition(), message.offset()) == ("aios.review.completed", 1, 7)
    assert (message.key(), message.value(), message.headers()) == (b"k", b"value", [("h", b"x")])
