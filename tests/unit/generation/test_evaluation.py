"""Draft evaluation: sentences are judged by the human labels, else by verbatim match, else counted unlabelled."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aios.generation.base import Draft, citation_of
from aios.generation.evaluation import (
    NO_CLAIM,
    SUPPORTED,
    UNLABELLED,
    UNSUPPORTED,
    CitedSentence,
    Tally,
    cited_sentences,
    judge,
    load_draft_queries,
)
from aios.generation.openings import opening_for
from aios.paths import project_root
from aios.retrieval.errors import EvaluationDataError
from aios.retrieval.types import ChunkKey, Passage

LOST = Passage(ChunkKey("lost-card", 0), "Lost", "Lock the card in the app.  A locked card cannot be used.", 0.1)


def test_sentences_after_the_opening_with_their_first_cited_chunk() -> None:
    text = f"{opening_for('report_lost_card')}\n\nLock the card in the app. [1] Hello there. Call us [1] [2]."
    draft = Draft(text, (citation_of(LOST), citation_of(LOST)), "openai", "m")
    assert cited_sentences(draft, "report_lost_card") == [
        CitedSentence("Lock the card in the app.", "lost-card#0"),
        CitedSentence("Hello there.", ""),
        CitedSentence("Call us.", "lost-card#0"),
    ]


def test_labels_win_then_verbatim_sentences_are_supported_and_the_rest_unlabelled() -> None:
    judged = {("Lock the card in the app.", "lost-card#0"): UNSUPPORTED, ("Hello there.", ""): NO_CLAIM}
    assert judge(CitedSentence("Lock the card in the app.", "lost-card#0"), [LOST], judged) == UNSUPPORTED
    assert judge(CitedSentence("Hello there.", ""), [LOST], judged) == NO_CLAIM
    assert judge(CitedSentence("A locked card cannot be used.", "lost-card#0"), [LOST], {}) == SUPPORTED
    assert judge(CitedSentence("A locked card can be used.", "lost-card#0"), [LOST], {}) == UNLABELLED


def test_faithfulness_counts_only_labelled_claims() -> None:
    tally = Tally(drafts=2, answered=1, fallbacks=1, seconds=[0.1, 0.3])
    tally.add_sentences(tally.after, [SUPPORTED, SUPPORTED, UNSUPPORTED, NO_CLAIM, UNLABELLED])
    shown = tally.as_dict()
    assert shown["faithfulness"] == pytest.approx(2 / 3)
    assert (shown["answer_rate"], shown["fallback_rate"], shown["unlabelled_sentences"]) == (0.5, 0.5, 1)
    assert shown["faithfulness_before_guard"] is None


def test_a_bad_label_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "drafts.jsonl"
    good = {"query": "q", "relevant": ["a"], "intent": "i"}
    bad = {**good, "judged": [{"sentence": "s", "chunk_id": "a#0", "label": "maybe"}]}
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(EvaluationDataError, match=r"drafts.jsonl:2: labels must be one of"):
        load_draft_queries(path)


def test_the_committed_draft_set_is_labelled_for_at_least_100_drafts() -> None:
    """The held-out judge of issue 22: every query carries its hand labels, and some claims are unsupported."""
    items = load_draft_queries(project_root() / "data/kb/demo/qa-drafts.jsonl")
    labelled = [item for item in items if item.judged]
    assert len(labelled) >= 100
    assert {UNSUPPORTED, NO_CLAIM} <= {label for item in labelled for label in item.judged.values()}
