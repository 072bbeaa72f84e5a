"""Sentence-aware chunking: sizes, overlap, blocks kept on their own lines, nothing lost."""

from __future__ import annotations

from itertools import pairwise

from aios.retrieval.chunking import chunk_blocks, split_sentences


def test_sentences_split_at_terminal_punctuation_and_new_lines() -> None:
    assert split_sentences('Lock it now. Then call us? Yes! "Quoted." 3 cards left.\nA heading') == [
        "Lock it now.",
        "Then call us?",
        "Yes!",
        '"Quoted."',
        "3 cards left.",
        "A heading",
    ]
    # No split inside numbers or before a lower-case word.
    assert split_sentences("It costs 2.5 dollars, e.g. per month.") == ["It costs 2.5 dollars, e.g. per month."]


def test_chunks_respect_the_size_and_repeat_the_last_sentence() -> None:
    sentences = [f"Sentence number {i} is here." for i in range(10)]
    chunks = chunk_blocks([" ".join(sentences)], max_chars=90, overlap=1)
    assert all(len(chunk) <= 90 for chunk in chunks)
    for before, after in pairwise(chunks):
        assert split_sentences(after)[0] == split_sentences(before)[-1]
    covered = {s for chunk in chunks for s in split_sentences(chunk)}
    assert covered == set(sentences)


def test_without_overlap_every_sentence_appears_once() -> None:
    sentences = [f"Short sentence {i}." for i in range(12)]
    chunks = chunk_blocks([" ".join(sentences)], max_chars=60, overlap=0)
    assert [s for chunk in chunks for s in split_sentences(chunk)] == sentences


def test_blocks_stay_on_their_own_lines() -> None:
    chunks = chunk_blocks(["Ordering a replacement", "Open the app. Choose Replace card."], max_chars=500, overlap=1)
    assert chunks == ["Ordering a replacement\nOpen the app. Choose Replace card."]


def test_a_sentence_longer_than_a_chunk_is_cut_at_words() -> None:
    long = " ".join(["word"] * 60)  # 299 characters
    chunks = chunk_blocks([long], max_chars=100, overlap=1)
    assert all(len(chunk) <= 100 for chunk in chunks)
    assert " ".join(chunks).split() == long.split()
    assert chunk_blocks([], max_chars=100, overlap=1) == []
