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
    pids = pipeline.pids()
    specs = clinc_events(120, "chaos", model_labels(pipeline.model), seed=3)
    reviewer = Reviewer(pipeline, pipeline.tenants["chaos"], approve_large_amounts).start()
    load = Load(pipeline, specs, rate_per_s=10).start()
    try:
        wait_for(lambda: load.done >= 40, 120, "40 events submitted")
        placed = produce_bad_records(pipeline, make_bad_records(pipeline, seed=11))
        load.join(timeout_s=300)
        result = settle(pipeline, {s.event_id for s in load.accepted}, [reviewer])
        wait_for(
            lambda: not missing_dead_letters(pipeline, placed), 180, "every bad record dead-lettered", pipeline.logs
        )
    finally:
        reviewer.stop()
    audit = check_audit(pipeline)

    dead = {
        (d["original_topic"], d["original_partition"], d["original_offset"], d["service"]): d
        for d in pipeline.tail.values("deadletter")
    }
    table = [
        (record.topic, record.kind, service, d["error_kind"], d["reason"][:160])
        for (topic, partition, offset, service), d in sorted(dead.items())
        for record in placed
        if (pipeline.topics[record.topic], record.partition, record.offset) == (topic, partition, offset)
    ]
    print(json.dumps({"bad_records": len(placed), "dead_letters": len(table), **result.summary()}))
    print("\n".join(" | ".join(map(str, row)) for row in table))

    assert pipeline.pids() == pids, "a service stopped or restarted"
    assert not result.lost, f"{len(result.lost)} valid events lost: {result.lost[:5]}\n{pipeline.logs()}"
    assert not result.verdicts_undecided and result.duplicate_effects == 0
    assert all(kind in EXPECTED_KIND[record_kind] for _, record_kind, _, kind, _ in table), table
    assert audit.missing == 0 and audit.verified, audit.report
