"""The full bad-input suite (`make fuzz`): schemathesis against the pipeline's ingest, then ten bad records of
each kind on every topic while 500 events stream.

Every event the fuzzer got accepted must flow through the whole pipeline to a final state like any
other; nothing a fuzzer or a bad producer sends may stop a service.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.resilience.test_fuzz import bad_records_amid_valid_events
from tests.support.outcomes import record_results, settle
from tests.support.pipeline import Pipeline
from tests.support.schemathesis import run_schemathesis
from tests.support.traffic import Reviewer, approve_large_amounts

pytestmark = [pytest.mark.fuzz, pytest.mark.slow, pytest.mark.timeout(1800)]

MAX_EXAMPLES = 500


def test_schemathesis_finds_nothing_and_every_event_it_got_accepted_reaches_a_final_state(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    pids = pipeline.pids()
    tenant = pipeline.tenants["chaos"]
    before = {v["event_id"] for v in pipeline.tail.values("received")}
    reviewer = Reviewer(pipeline, tenant, approve_large_amounts).start()
    try:
        fuzzed = run_schemathesis(
            pipeline.url("ingest"), tenant.api_key, tmp_path, max_examples=MAX_EXAMPLES, timeout_s=1200
        )
        accepted = {v["event_id"] for v in pipeline.tail.values("received")} - before
        result = settle(pipeline, accepted, [reviewer])
    finally:
        reviewer.stop()
    summary = [line for line in fuzzed.stdout.splitlines() if "passed" in line or "failed" in line][-3:]
    record_results(
        "schemathesis",
        {"command": "make fuzz", "max_examples": MAX_EXAMPLES, "schemathesis": summary, **result.summary()},
    )

    assert fuzzed.returncode == 0, fuzzed.stdout[-6000:] + fuzzed.stderr[-2000:]
    assert accepted, "the fuzzer got some events accepted"
    assert not result.lost, f"{len(result.lost)} accepted events lost: {result.lost[:5]}\n{pipeline.logs()}"
    assert pipeline.pids() == pids, "a service stopped or restarted"


def test_ten_bad_records_of_each_kind_on_every_topic_amid_500_events(pipeline: Pipeline) -> None:
    figures = bad_records_amid_valid_events(pipeline, events=500, per_kind=10, seed=23)
    record_results("bad-records", {"command": "make fuzz", **figures})
