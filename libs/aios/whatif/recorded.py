"""The recorded traffic of one tenant's window, read from the topics: each event as decide saw it, what was
decided for it (an automatic decision or a review request) and, where a reviewer decided, the verdict.

Decisions and verdicts are read from the window's start to now, since an event of the window may be
decided (or reviewed) after the window ends.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from confluent_kafka.error import SerializationError

from aios.kafka.serde import Codecs
from aios.kafka.timewindow import TimeWindow
from aios.whatif.compare import Outcome, OutcomeName, Reviewed
from aios.whatif.settings import ReplaySettings

log = logging.getLogger(__name__)

Tracker = Callable[[str, int], Callable[[], None]]
"""Given what is being done and how many steps it has, the callback to call after each step (a progress bar)."""


def no_progress(_description: str, _total: int) -> Callable[[], None]:
    return lambda: None


@dataclass(frozen=True)
class RecordedEvent:
    value: dict[str, Any]
    """The `aios.events.enriched` value decide decided on."""
    timestamp_s: float
    """Its Kafka timestamp: the event time decide's traffic windows count it at."""
    in_window: bool
    """False for warm-up events before the window (counted into the traffic state, not reported)."""
    happened: Outcome | None = None
    policy_version: str | None = None
    reviewed: Reviewed | None = None

    @property
    def event_id(self) -> str:
        return str(self.value["event_id"])


def read_recorded(  # noqa: PLR0917 -- the window is two instants of one tenant on one cluster
    settings: ReplaySettings,
    bootstrap: str,
    codecs: Codecs,
    tenant_id: str,
    since_ms: int,
    until_ms: int,
    track: Tracker = no_progress,
) -> list[RecordedEvent]:
    """The tenant's events of `[since_ms - warm-up, until_ms)` in time order, with what happened to them."""
    warm_from = since_ms - int(settings.warmup_s * 1000)
    events: dict[str, tuple[dict[str, Any], float]] = {}
    for value, timestamp_ms in _values(settings.enriched_topic, bootstrap, codecs, warm_from, until_ms, track):
        if value.get("tenant_id") == tenant_id:
            events.setdefault(str(value["event_id"]), (value, timestamp_ms / 1000))
    happened: dict[str, tuple[Outcome, str]] = {}
    for value, _ in _values(settings.decisions_topic, bootstrap, codecs, warm_from, None, track):
        if value["event_id"] in events and value.get("reviewer") is None:
            outcome: OutcomeName = "AUTO" if value["outcome"] == "AUTO" else "REJECT"
            policy = value["policy"]
            decided = Outcome(outcome, policy["rule"], value["reason"], value["label"])
            happened[value["event_id"]] = (decided, policy["version"])
    for value, _ in _values(settings.review_requested_topic, bootstrap, codecs, warm_from, None, track):
        if value["event_id"] in events:
            policy, label = value["policy"], value["classification"]["label"]
            happened[value["event_id"]] = (Outcome("REVIEW", policy["rule"], value["reason"], label), policy["version"])
    reviewed: dict[str, Reviewed] = {}
    for value, _ in _values(settings.review_completed_topic, bootstrap, codecs, warm_from, None, track):
        event_id = value["event_id"]
        if event_id in events and event_id not in reviewed:  # each review completes once; later ones are ignored
            reviewed[event_id] = _reviewed(value, events[event_id][0])
    recorded = []
    for event_id, (value, timestamp_s) in events.items():
        found = happened.get(event_id)
        recorded.append(
            RecordedEvent(
                value,
                timestamp_s,
                timestamp_s * 1000 >= since_ms,
                found[0] if found else None,
                found[1] if found else None,
                reviewed.get(event_id),
            )
        )
    return sorted(recorded, key=lambda r: r.timestamp_s)


def _reviewed(completion: dict[str, Any], event: dict[str, Any]) -> Reviewed:
    verdict = completion["verdict"]
    if verdict == "RELABEL":
        return Reviewed(verdict, completion.get("corrected_label"))
    if verdict == "REJECT":
        return Reviewed(verdict, None)
    return Reviewed(verdict, event["classification"]["label"])


def _values(
    topic: str, bootstrap: str, codecs: Codecs, since_ms: int, until_ms: int | None, track: Tracker
) -> Iterator[tuple[dict[str, Any], int]]:
    """Decoded values of the window with their timestamps; an undecodable record is logged and skipped."""
    window = TimeWindow(bootstrap, topic, since_ms, until_ms)
    step = track(f"reading {topic}", window.size)
    for record in window.records(step):
        try:
            yield codecs.decode(topic, record.value), record.timestamp_ms
        except SerializationError as exc:
            log.warning("%s[%s]@%s: undecodable, skipped: %s", topic, record.partition, record.offset, exc)
