"""The OpenAI generator against a real local model server (llama-cpp-python on SmolLM2), budget and fallback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aios.generation.base import DraftRequest, citation_of
from aios.generation.budget import FAILED, QUEUE_FULL, TIMEOUT, BudgetedGenerator
from aios.generation.drafter import Drafter
from aios.generation.errors import GenerationError
from aios.generation.extractive import ExtractiveGenerator
from aios.generation.grounding import GroundingGuard
from aios.generation.openai_chat import OpenAIGenerator
from aios.inference.encoder import SentenceEncoder
from aios.retrieval.types import ChunkKey, Passage
from aios.stack.llm import MODEL_NAME, LlmServer
from tests.support.llm_process import needs_llm, private_llm

pytestmark = needs_llm

PASSAGES = [
    Passage(
        ChunkKey("lost-card", 0),
        "Lost cards",
        "If your card is lost, lock it in the app straight away. A locked card cannot be used for new purchases.",
        0.1,
    ),
    Passage(ChunkKey("fees", 0), "Fees", "Paying in a foreign currency costs a fee of 3% of the amount.", 0.05),
]
REQUESTS = [
    DraftRequest("I lost my card, what do I do?", "report_lost_card", PASSAGES),
    DraftRequest("what does it cost to pay abroad", "international_fees", PASSAGES),
    DraftRequest("my card is gone, can someone use it?", "report_lost_card", PASSAGES),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlmServer]:
    with private_llm(tmp_path_factory.mktemp("llm")) as running:
        yield running


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoder:
    return SentenceEncoder.load()


def test_drafts_come_back_from_the_model_citing_only_the_prompt_passages(server: LlmServer) -> None:
    generator = OpenAIGenerator(server.url, MODEL_NAME, timeout_s=60)
    drafts = generator.generate(REQUESTS)
    assert len(drafts) == len(REQUESTS)
    written = [d for d in drafts if d is not None]
    # A 135M model does not always cite; a draft it returns always does, and only the given passages.
    assert written, "the model cited no passage in any of the replies"
    for draft in written:
        assert draft.generator == "openai" and draft.generator_version == MODEL_NAME
        assert draft.citations and set(draft.citations) <= {citation_of(p) for p in PASSAGES}
        assert "[1]" in draft.text


def test_a_budget_shorter_than_the_model_falls_back_and_a_full_queue_refuses_at_once(server: LlmServer) -> None:
    budgeted = BudgetedGenerator(OpenAIGenerator(server.url, MODEL_NAME), queue_size=2, budget_s=0.01)
    outcomes = budgeted.generate(REQUESTS)
    assert [o.fallback for o in outcomes] == [TIMEOUT, TIMEOUT, QUEUE_FULL]
    assert all(o.draft is None for o in outcomes)
    budgeted.close()


def test_a_stopped_server_falls_back_to_extractive_and_loses_no_draft(tmp_path: Path, encoder: SentenceEncoder) -> None:
    with private_llm(tmp_path) as mine:
        generator = OpenAIGenerator(mine.url, MODEL_NAME, retries=0, timeout_s=60)
        drafter = Drafter(
            ExtractiveGenerator(encoder),
            {"openai": BudgetedGenerator(generator, queue_size=8, budget_s=120)},
            GroundingGuard(encoder),
        )
        live = drafter.draft("openai", REQUESTS)
        mine.stop()
        assert not mine.healthy()
        with pytest.raises(GenerationError, match="unreachable"):
            generator.generate(REQUESTS[:1])
        stopped = drafter.draft("openai", REQUESTS)
    assert all(r.grounding is not None and r.grounding.generator == "openai" for r in live + stopped)
    for result in stopped:
        assert result.grounding is not None and (result.grounding.fell_back, result.grounding.fallback_reason) == (
            True,
            FAILED,
        )
        assert result.draft is not None and result.draft.generator == "extractive"
    drafter.close()
