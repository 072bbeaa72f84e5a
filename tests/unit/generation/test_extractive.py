"""The extractive generator: verbatim KB sentences only, each cited to a retrieved chunk; the opening by label."""

from __future__ import annotations

import re

import pytest

from aios.generation.base import Citation, DraftRequest
from aios.generation.extractive import ExtractiveGenerator
from aios.generation.openings import GENERIC, OPENINGS
from aios.inference.encoder import SentenceEncoder
from aios.retrieval.chunking import split_sentences
from aios.retrieval.types import ChunkKey, Passage

LOST = Passage(
    ChunkKey("report-lost-card", 0),
    "Lost or stolen cards",
    "Lost or stolen cards\nIf you cannot find your card, lock it in the app with Lock card. "
    "A locked card cannot be used for new purchases or withdrawals. You can unlock it again if you find it.",
    0.03,
)
REPLACE = Passage(
    ChunkKey("report-lost-card", 1),
    "Lost or stolen cards",
    "You can unlock it again if you find it. When you know the card is gone, report it lost in the app. "
    "A new card with a new number is sent to you with free express delivery.",
    0.02,
)
DAMAGED = Passage(
    ChunkKey("damaged-card", 0),
    "Damaged cards",
    "A card that is cracked, bent or snapped may stop working in card readers. "
    "In the app, choose Replace card and select Damaged as the reason. Because the card was not lost or stolen, "
    "your card number stays the same and the card keeps working until you activate the new one.",
    0.015,
)
FEES = Passage(
    ChunkKey("international-fees", 0),
    "Foreign transaction fees",
    "Debit cards charge a foreign transaction fee of 3% of the amount. Our travel card charges no such fee.",
    0.01,
)


@pytest.fixture(scope="module")
def generator() -> ExtractiveGenerator:
    return ExtractiveGenerator(SentenceEncoder.load(), max_sentences=3)


def marked_sentences(text: str) -> list[tuple[str, int]]:
    """(sentence, citation number) for every marked sentence after the opening."""
    body = text.split("\n\n", 1)[1]
    return [(s.strip(), int(n)) for s, n in re.findall(r"(.+?) \[(\d+)\]", body)]


def test_every_sentence_is_a_verbatim_sentence_of_the_chunk_it_cites(generator: ExtractiveGenerator) -> None:
    passages = [LOST, REPLACE, FEES]
    request = DraftRequest("I lost my card yesterday, what should I do?", "report_lost_card", passages)
    [draft] = generator.generate([request])
    assert draft is not None
    assert draft.generator == "extractive" and draft.generator_version
    assert draft.text.startswith(OPENINGS["report_lost_card"] + "\n\n")
    retrieved = {Citation(p.key.document_id, p.key.chunk_id): p for p in passages}
    assert draft.citations and set(draft.citations) <= set(retrieved)
    marked = marked_sentences(draft.text)
    assert 1 <= len(marked) <= 3
    for sentence, number in marked:
        assert sentence in split_sentences(retrieved[draft.citations[number - 1]].text)
    # Every citation is used, and nothing outside opening + marked sentences is in the text.
    assert {n for _, n in marked} == set(range(1, len(draft.citations) + 1))
    rebuilt = OPENINGS["report_lost_card"] + "\n\n" + " ".join(f"{s} [{n}]" for s, n in marked)
    assert draft.text == rebuilt
    # The fee passage says nothing about a lost card.
    assert Citation("international-fees", "international-fees#0") not in draft.citations


def test_a_draft_quotes_only_the_best_matching_document(generator: ExtractiveGenerator) -> None:
    # The damaged-card sentence is the most similar of all to the message, and wrong for a stolen card.
    text = "My card was stolen, what should I do?"
    [draft] = generator.generate([DraftRequest(text, "report_lost_card", [LOST, REPLACE, DAMAGED])])
    assert draft is not None
    assert "not lost or stolen" not in draft.text
    assert {c.document_id for c in draft.citations} == {"report-lost-card"}
    assert len(marked_sentences(draft.text)) == 3
    # In the article's order: chunk 0's sentence before chunk 1's, whatever their similarity.
    assert draft.text.index("lock it in the app") < draft.text.index("report it lost in the app")
    # Retrieval's ranking of documents decides which one is quoted.
    [other] = generator.generate([DraftRequest(text, "report_lost_card", [DAMAGED, LOST, REPLACE])])
    assert other is not None and {c.document_id for c in other.citations} == {"damaged-card"}


def test_sentences_far_below_the_documents_best_are_dropped(generator: ExtractiveGenerator) -> None:
    # "You can unlock it again if you find it." clears the absolute floor (0.2) but not 0.6 of the best sentence.
    [draft] = generator.generate([DraftRequest("My card was stolen, what should I do?", "report_lost_card", [LOST])])
    assert draft is not None
    assert "unlock it again" not in draft.text
    assert len(marked_sentences(draft.text)) == 2
    loose = ExtractiveGenerator(generator.encoder, max_sentences=3, min_relative_similarity=0.0)
    [kept] = loose.generate([DraftRequest("My card was stolen, what should I do?", "report_lost_card", [LOST])])
    assert kept is not None and "unlock it again" in kept.text


def test_a_best_ranked_document_with_nothing_relevant_gives_way_to_the_next(generator: ExtractiveGenerator) -> None:
    strict = ExtractiveGenerator(generator.encoder, min_similarity=0.35)
    [draft] = strict.generate([DraftRequest("My card was stolen, what should I do?", "report_lost_card", [FEES, LOST])])
    assert draft is not None
    assert draft.citations == (Citation("report-lost-card", "report-lost-card#0"),)


def test_a_sentence_repeated_by_overlapping_chunks_appears_once(generator: ExtractiveGenerator) -> None:
    [draft] = generator.generate(
        [DraftRequest("can I unlock my card if I find it", "report_lost_card", [LOST, REPLACE])]
    )
    assert draft is not None
    assert draft.text.count("You can unlock it again if you find it.") == 1


def test_unknown_labels_get_the_generic_opening_and_batches_keep_order(generator: ExtractiveGenerator) -> None:
    requests = [
        DraftRequest("what fee do you charge abroad", "some_new_intent", [FEES]),
        DraftRequest("nothing retrieved", "report_lost_card", []),
        DraftRequest("my card is gone", "report_lost_card", [LOST]),
    ]
    fees, empty, lost = generator.generate(requests)
    assert fees is not None and fees.text.startswith(GENERIC)
    assert fees.citations == (Citation("international-fees", "international-fees#0"),)
    assert empty is None
    assert lost is not None and lost.citations == (Citation("report-lost-card", "report-lost-card#0"),)


def test_headings_and_unrelated_passages_give_no_draft(generator: ExtractiveGenerator) -> None:
    heading_only = Passage(ChunkKey("x", 0), "X", "Lost or stolen cards\nNext steps", 0.1)
    strict = ExtractiveGenerator(generator.encoder, min_similarity=0.9)
    assert generator.generate([DraftRequest("I lost my card", "report_lost_card", [heading_only])]) == [None]
    assert strict.generate([DraftRequest("what is the weather in Paris", "oos", [FEES])]) == [None]


def test_kb_sentences_are_embedded_once_and_given_query_vectors_are_used(generator: ExtractiveGenerator) -> None:
    encoded: list[str] = []

    class Counting:
        def encode(self, texts: list[str]) -> object:
            encoded.extend(texts)
            return generator.encoder.encode(texts)

    counting = ExtractiveGenerator(Counting(), max_sentences=2)  # type: ignore[arg-type]
    vector = generator.encoder.encode(["I lost my card"])[0]
    first = counting.generate([DraftRequest("I lost my card", "report_lost_card", [LOST], vector)])
    sentences = [s for s in split_sentences(LOST.text) if s.endswith(".")]
    assert sorted(encoded) == sorted(sentences)  # the query's vector was given: only KB sentences encoded
    encoded.clear()
    again = counting.generate([DraftRequest("I lost my card", "report_lost_card", [LOST])])
    assert encoded == ["I lost my card"]  # sentences come from the cache; the query had no vector this time
    assert first == again
