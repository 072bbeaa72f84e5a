"""Bad records on every input topic of every service: each ends in the dead-letter topic with a reason, no
service stops, and the valid events sent around them are all processed.

The reduced run (here, in `make test`) produces one record of each kind onto each topic while 120
events stream through the SDK; `full/test_fuzz_full.py` (`make fuzz`) produces many more and fuzzes
the ingest API with schemathesis against the same pipeline.
"""

from __future__ import annotations

import json

import pytest

from tests.integration.resilience.conftest import model_labels
from tests.support.bad_records import make_bad_records, missing_dead_letters, produce_bad_records
from tests.support.outcomes import check_audit, settle
from tests.support.pipeline import Pipeline, wait_for
from tests.support.traffic import Load, Reviewer, approve_large_amounts, clinc_events

pytestmark = pytest.mark.fuzz

EXPECTED_KIND = {
    "garbage": {"undecodable"},
    "unknown-schema": {"undecodable"},
    "truncated": {"undecodable"},
    "wrong-schema": {"undecodable"},
    "empty": {"undecodable"},
    "oversized": {"too-large"},
}
"""The dead letter's `error_kind` for each kind of bad record."""


def test_bad_records_on_every_topic_are_dead_lettered_with_a_reason_and_valid_events_around_them_flow(
    pipeline: Pipeline,
) -> None:
    bad_records_amid_valid_events(pipeline, events=120, per_kind=1, seed=11)


def bad_records_amid_valid_events(pipeline: Pipeline, events: int, per_kind: int, seed: int) -> dict[str, object]:
    """Stream `events` valid events, produce `per_kind` bad records of each kind onto every topic after the first
    third, and check what became of both; the figures for the report."""
    pids = pipeline.pids()
    specs = clinc_events(events, "chaos", model_labels(pipeline.model), seed=seed)
    reviewer = Reviewer(pipeline, pipeline.tenants["chaos"], approve_large_amounts).start()
    load = Load(pipeline, specs, rate_per_s=10).start()
    try:
        wait_for(lambda: load.done >= events // 3, 300, f"{events // 3} events submitted")
        placed = produce_bad_records(pipeline, make_bad_records(pipeline, per_kind, seed))
        load.join(timeout_s=events / 10 * 3 + 120)
        result = settle(pipeline, {s.event_id for s in load.accepted}, [reviewer])
        wait_for(
            lambda: not missing_dead_letters(pipeline, placed), 300, "every bad record dead-lettered", pipeline.logs
        )
    finally:
        reviewer.stop()
    audit = check_audit(pipeline)

    where = {(pipeline.topics[r.topic], r.partition, r.offset): r for r in placed}
    table = [
        (where[coordinates].topic, where[coordinates].kind, d["service"], d["error_kind"], d["reason"][:160])
        for d in pipeline.tail.values("deadletter")
        if (coordinates := (d["original_topic"], d["original_partition"], d["original_offset"])) in where
    ]
    figures = {"bad_records": len(placed), "dead_letters": len(table), **result.summary()}
    print(json.dumps(figures))
    print("\n".join(" | ".join(map(str, row)) for row in sorted(table)))

    assert pipeline.pids() == pids, "a service stopped or restarted"
    assert not load.failed, load.failed[:3]
    assert not result.lost, f"{len(result.lost)} valid events lost: {result.lost[:5]}\n{pipeline.logs()}"
    assert not result.verdicts_undecided and result.duplicate_effects == 0
    assert all(kind in EXPECTED_KIND[record_kind] for _, record_kind, _, kind, _ in table), table
    assert audit.missing == 0 and audit.verified, audit.report
    return figures
