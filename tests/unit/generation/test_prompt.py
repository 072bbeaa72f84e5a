"""The Triton generator's wire contract: prompts carry numbered passages; replies' markers become citations."""

from __future__ import annotations

from aios.generation.base import Citation, DraftRequest
from aios.generation.prompt import build_prompt, parse_reply, read_prompt
from aios.generation.standin import NO_ANSWER, standin_reply
from aios.retrieval.types import ChunkKey, Passage

PASSAGES = [
    Passage(ChunkKey("lost", 0), "Lost", "Lock the card in the app.\nA locked card cannot be used.", 0.1),
    Passage(ChunkKey("fees", 2), "Fees", "Foreign fees are 3% of the amount. Travel cards charge none.", 0.1),
]


def test_prompt_round_trip() -> None:
    prompt = build_prompt(DraftRequest("What are the  foreign\nfees?", "international_fees", PASSAGES))
    assert "PASSAGE [2] (fees#2): Foreign fees are 3% of the amount. Travel cards charge none." in prompt
    assert prompt.endswith("MESSAGE (international_fees): What are the foreign fees?\nREPLY:")
    parts = read_prompt(prompt)
    assert parts.passages == {
        1: "Lock the card in the app. A locked card cannot be used.",
        2: "Foreign fees are 3% of the amount. Travel cards charge none.",
    }
    assert (parts.label, parts.message) == ("international_fees", "What are the foreign fees?")


def test_markers_are_renumbered_by_first_use_and_unknown_ones_removed() -> None:
    text, citations = parse_reply("Hello. Fees are 3% [2]. Lock it [1]. None abroad [2]. Invented [7].", PASSAGES)
    assert text == "Hello. Fees are 3% [1]. Lock it [2]. None abroad [1]. Invented."
    assert citations == (Citation("fees", "fees#2"), Citation("lost", "lost#0"))
    assert parse_reply("No facts here.", PASSAGES) == ("No facts here.", ())


def test_standin_reply_is_deterministic_and_cites_what_it_copies() -> None:
    prompt = build_prompt(DraftRequest("are foreign fees charged on travel cards", "international_fees", PASSAGES))
    reply = standin_reply(prompt, sentences=2)
    assert reply == standin_reply(prompt, sentences=2)
    assert reply == "Thank you for reaching out. Foreign fees are 3% of the amount. [2] Travel cards charge none. [2]"
    assert standin_reply(build_prompt(DraftRequest("hello", "oos", PASSAGES))) == NO_ANSWER
