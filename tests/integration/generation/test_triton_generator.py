"""The Triton generator against a real Triton Inference Server (pytriton) serving the stand-in model."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from aios.generation.base import Citation, DraftRequest
from aios.generation.triton import TritonGenerator
from aios.inference.triton_process import TritonProcess
from aios.kafka.errors import TransientError
from aios.retrieval.types import ChunkKey, Passage
from tests.support.standin_process import MODEL, start_standin

PASSAGES = [
    Passage(ChunkKey("lost", 0), "Lost", "Lock the card in the app. A locked card cannot be used for purchases.", 0.1),
    Passage(ChunkKey("fees", 3), "Fees", "Foreign fees are 3% of the amount. Travel cards have no foreign fees.", 0.1),
]


@pytest.fixture(scope="module")
def standin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TritonProcess]:
    server = start_standin(tmp_path_factory.mktemp("standin"), max_batch_size=2)
    yield server
    server.stop()


def test_drafts_come_back_through_triton_with_citations_of_the_prompt_passages(standin: TritonProcess) -> None:
    generator = TritonGenerator(standin.url, MODEL)
    requests = [
        DraftRequest("I need to lock my lost card", "report_lost_card", PASSAGES),
        DraftRequest("what foreign fees apply on travel", "international_fees", PASSAGES),
        DraftRequest("hello there", "oos", PASSAGES),
        DraftRequest("lock card", "report_lost_card", PASSAGES[:1]),
        DraftRequest("foreign fees", "international_fees", PASSAGES[1:]),
    ]
    # Five prompts with a max batch of two: the client splits them into three inference calls.
    drafts = generator.generate(requests)
    assert generator.version == f"{MODEL}:1"
    assert len(drafts) == 5 and all(draft is not None for draft in drafts)
    lost, fees, hello, lost_only, fees_only = drafts
    assert lost is not None and lost.generator == "triton"
    assert lost.text.startswith("Thank you for reaching out. Lock the card in the app. [1]")
    assert lost.citations == (Citation("lost", "lost#0"),)
    assert fees is not None and fees.citations == (Citation("fees", "fees#3"),)
    assert "Foreign fees are 3% of the amount. [1]" in fees.text
    assert hello is not None and hello.citations == () and "[" not in hello.text
    # Markers are renumbered to the draft's own citations: passage 2 of the prompt became [1].
    assert fees_only is not None and fees_only.citations == (Citation("fees", "fees#3"),)
    for draft in (lost, fees, lost_only, fees_only):
        assert draft is not None
        numbers = {int(n) for n in re.findall(r"\[(\d+)\]", draft.text)}
        assert numbers == set(range(1, len(draft.citations) + 1))


def test_a_server_that_is_gone_is_a_transient_error(tmp_path: Path) -> None:
    server = start_standin(tmp_path)
    generator = TritonGenerator(server.url, MODEL, timeout_s=5)
    assert generator.generate([DraftRequest("lock card", "report_lost_card", PASSAGES)])[0] is not None
    server.stop()
    with pytest.raises(TransientError, match="unreachable"):
        generator.generate([DraftRequest("lock card", "report_lost_card", PASSAGES)])
