"""The grounding guard on hand-made drafts: faithful sentences stay, invented or contradicting ones go, with reasons."""

from __future__ import annotations

import pytest

from aios.generation.base import Draft, DraftRequest, citation_of
from aios.generation.grounding import (
    LOW_SIMILARITY,
    NEGATION,
    NOT_RETRIEVED,
    UNCITED,
    UNSUPPORTED_TERM,
    UNSUPPORTED_WORDS,
    GroundingGuard,
    sentences_of,
)
from aios.generation.openings import opening_for
from aios.inference.encoder import SentenceEncoder
from aios.retrieval.types import ChunkKey, Passage

LOST = Passage(
    ChunkKey("report-lost-card", 0),
    "Lost or stolen cards",
    "If you cannot find your card, lock it in the app with Lock card. "
    "A locked card cannot be used for new purchases or withdrawals. You can unlock it again if you find it.",
    0.03,
)
FEES = Passage(
    ChunkKey("international-fees", 0),
    "Foreign transaction fees",
    "Debit cards charge a foreign transaction fee of 3% of the amount. Our Travel card charges no such fee.",
    0.01,
)
OTHER = Passage(ChunkKey("replacement-card", 2), "Replacement", "Replacement cards arrive within 5 working days.", 0.0)
REQUEST = DraftRequest("I lost my card and I pay abroad a lot", "report_lost_card", [LOST, FEES])
CITATIONS = (citation_of(LOST), citation_of(FEES))


@pytest.fixture(scope="module")
def guard() -> GroundingGuard:
    return GroundingGuard(SentenceEncoder.load())


def check(guard: GroundingGuard, text: str, citations: tuple = CITATIONS) -> tuple[Draft | None, dict[str, str]]:
    [verdict] = guard.check([REQUEST], [Draft(text, citations, "openai", "m")])
    return verdict.draft, {d.sentence: d.reason for d in verdict.dropped}


def test_faithful_paraphrases_and_verbatim_sentences_are_kept_with_their_citations(guard: GroundingGuard) -> None:
    text = (
        "Thank you for reaching out. You can lock your card in the app with Lock card [1]. "
        "A locked card cannot be used for new purchases or withdrawals. [1] "
        "Debit cards charge a foreign transaction fee of 3% of the amount [2]."
    )
    draft, dropped = check(guard, text)
    assert dropped == {"Thank you for reaching out.": UNCITED}
    assert draft is not None
    assert draft.text == (
        f"{opening_for('report_lost_card')}\n\n"
        "You can lock your card in the app with Lock card. [1] "
        "A locked card cannot be used for new purchases or withdrawals. [1] "
        "Debit cards charge a foreign transaction fee of 3% of the amount. [2]"
    )
    assert draft.citations == CITATIONS and draft.generator == "openai"


def test_a_changed_number_is_dropped(guard: GroundingGuard) -> None:
    draft, dropped = check(guard, "Debit cards charge a foreign transaction fee of 5% of the amount [2].")
    assert draft is None and list(dropped.values()) == [UNSUPPORTED_TERM]


def test_an_invented_product_name_is_dropped(guard: GroundingGuard) -> None:
    _, dropped = check(guard, "Our Platinum card charges no foreign transaction fee [2].")
    assert list(dropped.values()) == [UNSUPPORTED_TERM]


def test_a_negated_sentence_is_dropped(guard: GroundingGuard) -> None:
    _, dropped = check(guard, "A locked card can be used for new purchases or withdrawals [1].")
    assert list(dropped.values()) == [NEGATION]


def test_a_sentence_citing_the_wrong_passage_is_dropped(guard: GroundingGuard) -> None:
    _, dropped = check(guard, "A locked card cannot be used for new purchases or withdrawals [2].")
    assert list(dropped.values()) in ([LOW_SIMILARITY], [UNSUPPORTED_WORDS])


def test_a_passage_that_was_not_retrieved_cannot_be_cited(guard: GroundingGuard) -> None:
    text = "Replacement cards arrive within 5 working days [1]."
    draft, dropped = check(guard, text, (citation_of(OTHER),))
    assert draft is None and list(dropped.values()) == [NOT_RETRIEVED]


def test_an_invented_instruction_is_dropped(guard: GroundingGuard) -> None:
    _, dropped = check(guard, "Call our hotline and visit a branch with your passport to get a refund [1].")
    assert list(dropped.values()) == [UNSUPPORTED_WORDS]


def test_markers_before_or_after_the_full_stop_split_alike() -> None:
    assert sentences_of("One thing. [1] Another thing [2]. Last.") == ["One thing. [1]", "Another thing [2].", "Last."]
