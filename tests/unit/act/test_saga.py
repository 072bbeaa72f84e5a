"""The saga state machine alone: steps in order, a permanent failure undoing completed steps latest first."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from aios.act.plan import compensation_id_for
from aios.act.saga import Step, StepStatus, Transition, after_failure, after_success, apply, saga_state, with_status

# An approved invoice: post it (undone by reversing the posting), schedule its payout (undone by
# cancelling it), send the remittance advice (nothing to undo).
INVOICE = (
    Step("post", "action", 0, "pending", compensable=True),
    Step("pay", "action", 1, "waiting", compensable=True),
    Step("advise", "action", 2, "waiting"),
)


def run(steps: Sequence[Step], results: Sequence[tuple[str, StepStatus]]) -> tuple[Step, ...]:
    """Record each (step, result) in turn as the store does: the result, then the transition it causes."""
    current = tuple(steps)
    for action_id, status in results:
        step = next(s for s in current if s.action_id == action_id)
        assert step.status == "pending", f"{action_id} ran before it was due: {step}"
        current = with_status(current, action_id, status)
        rule = after_success if status == "succeeded" else after_failure
        current = apply(current, rule(current, action_id))
    return current


def statuses(steps: Sequence[Step]) -> dict[str, str]:
    return {s.action_id: s.status for s in steps}


def test_steps_run_one_at_a_time_in_order_and_the_saga_completes() -> None:
    assert saga_state(INVOICE) == "running"
    assert after_success(with_status(INVOICE, "post", "succeeded"), "post") == Transition(start="pay")
    done = run(INVOICE, [("post", "succeeded"), ("pay", "succeeded"), ("advise", "succeeded")])
    assert set(statuses(done).values()) == {"succeeded"}
    assert saga_state(done) == "completed"


def test_a_failure_at_step_two_cancels_step_three_and_undoes_step_one() -> None:
    failed = run(INVOICE, [("post", "succeeded"), ("pay", "failed")])
    undo_post = compensation_id_for("post")
    assert statuses(failed) == {"post": "succeeded", "pay": "failed", "advise": "cancelled", undo_post: "pending"}
    assert saga_state(failed) == "compensating"
    undone = run(failed, [(undo_post, "succeeded")])
    assert statuses(undone)["post"] == "compensated"
    assert saga_state(undone) == "compensated"


def test_a_failure_at_step_three_undoes_steps_two_and_one_latest_first() -> None:
    failed = run(INVOICE, [("post", "succeeded"), ("pay", "succeeded"), ("advise", "failed")])
    transition = after_failure(
        with_status(with_status(with_status(INVOICE, "post", "succeeded"), "pay", "succeeded"), "advise", "failed"),
        "advise",
    )
    assert transition.compensate == ("pay", "post"), "latest first"
    assert transition.start == compensation_id_for("pay")
    assert statuses(failed)[compensation_id_for("post")] == "waiting", "one compensation at a time"
    undone = run(failed, [(compensation_id_for("pay"), "succeeded"), (compensation_id_for("post"), "succeeded")])
    assert (statuses(undone)["pay"], statuses(undone)["post"]) == ("compensated", "compensated")
    assert saga_state(undone) == "compensated"


def test_a_failed_compensation_is_recorded_and_the_next_one_still_runs() -> None:
    failed = run(INVOICE, [("post", "succeeded"), ("pay", "succeeded"), ("advise", "failed")])
    after = run(failed, [(compensation_id_for("pay"), "failed")])
    assert statuses(after)[compensation_id_for("post")] == "pending"
    assert saga_state(after) == "compensating"
    end = run(after, [(compensation_id_for("post"), "succeeded")])
    assert (statuses(end)["pay"], statuses(end)["post"]) == ("succeeded", "compensated"), "the payout stands"
    assert saga_state(end) == "compensation_failed"


def test_steps_without_a_compensation_are_not_undone_and_a_first_step_failure_has_nothing_to_undo() -> None:
    plain = (Step("log", "action", 0, "pending"), Step("hook", "action", 1, "waiting"))
    failed = run(plain, [("log", "succeeded"), ("hook", "failed")])
    assert after_failure(failed, "hook").compensate == ()
    assert saga_state(failed) == "failed"
    first = run(INVOICE, [("post", "failed")])
    assert statuses(first) == {"post": "failed", "pay": "cancelled", "advise": "cancelled"}
    assert saga_state(first) == "failed"


def test_a_step_that_is_not_in_the_saga_is_an_error() -> None:
    with pytest.raises(KeyError):
        after_success(INVOICE, "other")
