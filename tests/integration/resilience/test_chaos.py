"""Faults while events stream through the whole pipeline: nothing lost, no side effect twice, the trail verifies.

The reduced run (here, in `make test`) kills a stateless consumer (classify), decide and act with
`kill -9` while 400 events stream; `test_chaos_full.py` (`make chaos`) kills every service, a
broker, PostgreSQL and Redis while 5,000 do.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.integration.resilience.conftest import model_labels
from tests.support.outcomes import check_audit, explain, settle
from tests.support.pipeline import Pipeline
from tests.support.traffic import Load, Reviewer, approve_large_amounts, clinc_events

pytestmark = pytest.mark.chaos


def test_kill_9_of_classify_decide_and_act_loses_nothing_and_repeats_no_side_effect(pipeline: Pipeline) -> None:
    tenant = pipeline.tenants["chaos"]
    specs = clinc_events(400, "chaos", model_labels(pipeline.model), seed=1)
    reviewer = Reviewer(pipeline, tenant, approve_large_amounts).start()
    load = Load(pipeline, specs, rate_per_s=8).start()
    started = time.monotonic()
    try:
        for victim, at in (("classify", 80), ("decide", 180), ("act", 280)):
            while load.done < at:
                time.sleep(0.2)
            pipeline.restart(victim, down_s=2)
        load.join(timeout_s=300)
        result = settle(pipeline, {s.event_id for s in load.accepted}, [reviewer])
    finally:
        reviewer.stop()
    audit = check_audit(pipeline)
    print(json.dumps({**result.summary(), "seconds": round(time.monotonic() - started)}))

    assert not load.failed, load.failed[:3]
    assert len(load.accepted) == len(specs)
    assert not result.lost, explain(pipeline, result.lost, [reviewer])
    assert not result.verdicts_undecided, explain(pipeline, result.verdicts_undecided, [reviewer])
    assert result.duplicate_effects == 0
    assert result.receiver_actions == result.webhook_actions
    assert {"AUTO", "REJECT", "APPROVED", "REJECTED"} <= set(result.outcomes), result.outcomes
    assert audit.missing == 0 and audit.verified, audit.report
    assert all(pid is not None for pid in pipeline.pids().values()), pipeline.pids()
