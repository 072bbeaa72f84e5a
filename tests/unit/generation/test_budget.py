"""Budgeted drafting: late, refused and failing drafts become fallback reasons, never lost requests."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import pytest

from aios.generation.base import Draft, DraftRequest
from aios.generation.budget import FAILED, NO_ANSWER, QUEUE_FULL, TIMEOUT, BudgetedGenerator
from aios.generation.errors import GenerationError
from aios.generation.openai_chat import OpenAIGenerator
from aios.inference.triton_process import free_ports

REQUEST = DraftRequest("text", "label", ())


class Scripted:
    """A generator whose reply depends on the request text: `slow`, `fail`, `none`, else a draft at once."""

    name = "scripted"
    version = "1"

    def __init__(self) -> None:
        self.release = threading.Event()

    def generate(self, requests: Sequence[DraftRequest]) -> list[Draft | None]:
        [request] = requests
        if request.text == "slow":
            self.release.wait(5)
        if request.text == "fail":
            raise GenerationError("model failed")
        return [None if request.text == "none" else Draft(request.text, (), self.name, self.version)]


def requests(*texts: str) -> list[DraftRequest]:
    return [DraftRequest(text, "label", ()) for text in texts]


def test_each_request_gets_its_draft_or_its_fallback_reason_in_order() -> None:
    budgeted = BudgetedGenerator(Scripted(), queue_size=8, budget_s=2)
    outcomes = budgeted.generate(requests("a", "fail", "none", "b"))
    assert [(o.draft.text if o.draft else None, o.fallback) for o in outcomes] == [
        ("a", None),
        (None, FAILED),
        (None, NO_ANSWER),
        ("b", None),
    ]


def test_a_slow_model_costs_the_batch_the_budget_only_and_fills_the_queue() -> None:
    model = Scripted()
    budgeted = BudgetedGenerator(model, queue_size=2, budget_s=0.2)
    started = time.monotonic()
    outcomes = budgeted.generate(requests("slow", "slow", "a"))
    assert time.monotonic() - started < 1
    assert [o.fallback for o in outcomes] == [TIMEOUT, TIMEOUT, QUEUE_FULL]
    # The late drafts still hold their slots: the next batch is refused at once, not queued.
    assert [o.fallback for o in budgeted.generate(requests("a"))] == [QUEUE_FULL]
    model.release.set()
    deadline = time.monotonic() + 5
    while budgeted.in_flight and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [o.fallback for o in budgeted.generate(requests("a"))] == [None]
    budgeted.close()


def test_nothing_listening_is_a_generation_error_after_the_retries() -> None:
    [port] = free_ports(1)
    generator = OpenAIGenerator(f"http://127.0.0.1:{port}/v1", "m", retries=2, timeout_s=1)
    with pytest.raises(GenerationError, match="after 3 attempts"):
        generator.generate([REQUEST])
