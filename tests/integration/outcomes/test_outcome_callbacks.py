"""Outcome callbacks against the live pipeline: registered with the CLI, signed, retried, one per event."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from tests.integration.outcomes.test_prefer_wait import outcome, submit
from tests.support.cli import aios
from tests.support.http_target import HttpTarget, Received
from tests.support.kafka_io import produce_raw
from tests.support.pipeline import Pipeline, Tenant, wait_for

FAILURES = 2
"""The receiver refuses the first callbacks with 503: the notifier must try again."""


@pytest.fixture(scope="module")
def receiver(waiting_pipeline: tuple[Pipeline, Tenant]) -> Iterator[HttpTarget]:
    pipeline, tenant = waiting_pipeline
    target = HttpTarget()
    registered = aios(
        "tenants", "callback", "set", tenant.tenant_id, f"{target.url}/outcomes", "--json",
        env={"AIOS_POSTGRES_DSN": pipeline.dsn},
    )  # fmt: skip
    assert registered.returncode == 0, registered.stderr
    target.secret = json.loads(registered.stdout)["secret"]
    target.fail("/outcomes", 503, times=FAILURES)
    target.start()
    yield target
    target.stop()


def callbacks_of(target: HttpTarget, event_id: str) -> list[Received]:
    return [r for r in target.received("/outcomes") if r.body and r.body.get("event_id") == event_id]


def test_each_final_outcome_is_posted_signed_retried_until_taken_and_once_per_event(
    waiting_pipeline: tuple[Pipeline, Tenant], receiver: HttpTarget
) -> None:
    pipeline, tenant = waiting_pipeline
    answer = submit(pipeline, tenant, "[reject] call me back", key="callback-event")
    waited = outcome(answer)
    event_id = answer.json()["event_id"]
    wait_for(lambda: any(r.status == 200 for r in callbacks_of(receiver, event_id)), 60, "the callback delivered")
    calls = callbacks_of(receiver, event_id)
    assert [r.status for r in calls] == [503] * FAILURES + [200]
    assert all(r.signed is True and r.key == event_id for r in calls)
    assert calls[1].at - calls[0].at >= 0.9  # backed off, not hammered
    assert all(r.body == {"event_id": event_id, "tenant_id": tenant.tenant_id, "outcome": waited} for r in calls)

    # The same outcome again: a retried request, and the decision redelivered (at-least-once) to the notifier.
    assert submit(pipeline, tenant, "[reject] call me back", key="callback-event").json() == answer.json()
    decision = next(value for value in pipeline.tail.values("decisions") if value["event_id"] == event_id)
    produce_raw(
        pipeline.connection.kafka_bootstrap,
        pipeline.topics["decisions"],
        [
            (
                f"{tenant.tenant_id}:{event_id}".encode(),
                pipeline.codecs.encode(pipeline.topics["decisions"], decision),
            )
        ],
    )
    time.sleep(5)  # time for the notifier to read the redelivered decision and (wrongly) post again
    assert len(callbacks_of(receiver, event_id)) == FAILURES + 1


def test_a_waiting_outcome_is_not_called_back(waiting_pipeline: tuple[Pipeline, Tenant], receiver: HttpTarget) -> None:
    pipeline, tenant = waiting_pipeline
    answer = submit(pipeline, tenant, "[review] no callback until a person decides")
    assert outcome(answer)["kind"] == "review_requested"
    time.sleep(3)
    assert callbacks_of(receiver, answer.json()["event_id"]) == []
