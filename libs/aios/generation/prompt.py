"""The prompt a generative model gets and how its reply becomes a draft: the Triton and OpenAI generators' contract.

The prompt numbers the passages; the model is told to put `[n]` after every sentence taken from
passage n. Reading the reply, markers are renumbered to the order the passages are first cited
(the draft convention of `aios.generation.base`), and a marker naming no passage is removed, so a
citation can only ever point at a chunk that was retrieved for this event.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from aios.generation.base import Citation, DraftRequest, citation_of
from aios.retrieval.types import Passage

PROMPT = "prompt"
REPLY = "reply"
"""Names of the model's input and output tensors (one UTF-8 string per request)."""

INSTRUCTIONS = (
    "You write the first draft of a customer support reply. Use only facts stated in the numbered passages. "
    "After every sentence taken from a passage, write its number in brackets, like [2]. "
    "If the passages do not answer the message, say that a colleague will follow up."
)

_MARKER = re.compile(r"\s*\[(\d+)\]")
_PASSAGE = re.compile(r"^PASSAGE \[(\d+)\] \(([^)]*)\): (.*)$")
_MESSAGE = re.compile(r"^MESSAGE \(([^)]*)\): (.*)$")


def build_prompt(request: DraftRequest) -> str:
    """Instructions, passages one per line as `PASSAGE [n] (chunk id): text`, then the message and its label."""
    lines = [f"INSTRUCTIONS: {INSTRUCTIONS}"]
    lines += [
        f"PASSAGE [{n}] ({passage.key.chunk_id}): {' '.join(passage.text.split())}"
        for n, passage in enumerate(request.passages, start=1)
    ]
    lines += [f"MESSAGE ({request.label}): {' '.join(request.text.split())}", "REPLY:"]
    return "\n".join(lines)


def build_messages(request: DraftRequest) -> list[dict[str, str]]:
    """The same prompt as chat messages: the instructions as the system turn, passages and message as the user's."""
    passages = [f"[{n}] {' '.join(passage.text.split())}" for n, passage in enumerate(request.passages, start=1)]
    user = "\n".join(["Passages:", *passages, "", f"Customer message: {' '.join(request.text.split())}"])
    return [{"role": "system", "content": INSTRUCTIONS}, {"role": "user", "content": user}]


@dataclass(frozen=True)
class PromptParts:
    """What a model reads out of a prompt (the stand-in model's view of it)."""

    passages: dict[int, str]
    label: str
    message: str


def read_prompt(prompt: str) -> PromptParts:
    passages: dict[int, str] = {}
    label = message = ""
    for line in prompt.splitlines():
        if found := _PASSAGE.match(line):
            passages[int(found[1])] = found[3]
        elif found := _MESSAGE.match(line):
            label, message = found[1], found[2]
    return PromptParts(passages, label, message)


def parse_reply(reply: str, passages: Sequence[Passage]) -> tuple[str, tuple[Citation, ...]]:
    """The reply with markers renumbered to its citations, and those citations in order of first use."""
    citations: list[Citation] = []

    def renumber(marker: re.Match[str]) -> str:
        number = int(marker[1])
        if not 1 <= number <= len(passages):
            return ""
        citation = citation_of(passages[number - 1])
        if citation not in citations:
            citations.append(citation)
        return f" [{citations.index(citation) + 1}]"

    return _MARKER.sub(renumber, reply).strip(), tuple(citations)
