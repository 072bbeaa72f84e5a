"""The grounding guard: every sentence of a generated draft must cite a retrieved passage that supports it.

A model writes fluent sentences whether or not its passages say so; a small one invents amounts,
deadlines and product names. Each sentence of a draft is checked against the passages it cites,
cheapest check first; the first that fails drops the sentence with its reason:

- `uncited`: no `[n]` marker: nothing to hold it to (greetings and sign-offs go too: the draft
  gets the label's fixed opening line instead, as extractive drafts have);
- `not_retrieved`: a marker names a passage that was not retrieved for this event;
- `unsupported_term`: a number, amount, date or capitalised name is in none of the cited passages;
- `unsupported_words`: too few of its content words occur in the cited passages (invented matter);
- `low_similarity`: its embedding is far from every sentence of the cited passages;
- `negation`: it and the cited sentence closest to it disagree on a negation ("can" / "cannot").

What survives is written after the opening line with its markers renumbered; when fewer than
`min_kept` sentences survive, the draft is refused (None) and the caller uses the extractive one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from aios.generation.base import Citation, Draft, DraftRequest, citation_of
from aios.generation.openings import opening_for
from aios.inference.encoder import SentenceEncoder
from aios.retrieval.chunking import split_sentences
from aios.retrieval.types import Passage

UNCITED, NOT_RETRIEVED, UNSUPPORTED_TERM = "uncited", "not_retrieved", "unsupported_term"
UNSUPPORTED_WORDS, LOW_SIMILARITY, NEGATION = "unsupported_words", "low_similarity", "negation"

_MARKER = re.compile(r"\s*\[(\d+)\]")
_BOUNDARY = re.compile(r"(?<=[.!?\]])\s+(?=[\"'(]?[A-Z0-9])")
_NUMBER = re.compile(r"\d+(?:[.,:/-]\d+)*")
_NAME = re.compile(r"(?<=[\w,;:] )[A-Z][A-Za-z0-9]*(?:[- ][A-Z][A-Za-z0-9]*)*")
_WORD = re.compile(r"[a-z][a-z']+")
_NEGATIONS = frozenset(
    [
        "not",
        "no",
        "never",
        "cannot",
        "can't",
        "don't",
        "doesn't",
        "didn't",
        "won't",
        "isn't",
        "aren't",
        "wasn't",
        "without",
        "none",
        "nor",
        "unable",
    ]
)
_STOPWORDS = frozenset(
    [
        "about",
        "above",
        "after",
        "again",
        "also",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "him",
        "his",
        "how",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "please",
        "may",
        "might",
        "must",
        "shall",
        "us",
        "let",
        "get",
        "got",
        "make",
        "made",
        "need",
        "needs",
        "take",
    ]
)


@dataclass(frozen=True)
class Dropped:
    sentence: str
    reason: str


@dataclass(frozen=True)
class Grounded:
    """The guarded draft (None: too little survived) and what was dropped, with the reasons."""

    draft: Draft | None
    kept: int
    dropped: tuple[Dropped, ...]


@dataclass(frozen=True)
class _Sentence:
    text: str
    """Without its markers."""
    cited: tuple[Passage, ...]
    reason: str | None


class GroundingGuard:
    def __init__(
        self,
        encoder: SentenceEncoder,
        *,
        min_similarity: float = 0.6,
        min_word_coverage: float = 0.6,
        min_kept: int = 1,
    ) -> None:
        self.encoder = encoder
        self.min_similarity = min_similarity
        self.min_word_coverage = min_word_coverage
        self.min_kept = min_kept

    def check(self, requests: Sequence[DraftRequest], drafts: Sequence[Draft]) -> list[Grounded]:
        """One verdict per draft; the embedding checks take one encoder call for the whole batch."""
        parsed = [
            _parse(request, draft, self.min_word_coverage) for request, draft in zip(requests, drafts, strict=True)
        ]
        pending = [s for sentences in parsed for s in sentences if s.reason is None]
        passage_sentences = sorted({p for s in pending for c in s.cited for p in split_sentences(c.text)})
        texts = [s.text for s in pending] + passage_sentences
        vectors = dict(zip(texts, self.encoder.encode(texts), strict=True)) if texts else {}
        results = []
        for request, draft, sentences in zip(requests, drafts, parsed, strict=True):
            checked = [s if s.reason else self._semantic(s, vectors) for s in sentences]
            results.append(self._verdict(request, draft, checked))
        return results

    def _semantic(self, sentence: _Sentence, vectors: dict[str, np.ndarray]) -> _Sentence:
        candidates = [p for passage in sentence.cited for p in split_sentences(passage.text)]
        similarity = np.array([float(vectors[sentence.text] @ vectors[c]) for c in candidates])
        best = int(similarity.argmax())
        reason = None
        if similarity[best] < self.min_similarity:
            reason = LOW_SIMILARITY
        elif _contradicts(sentence.text, candidates[best]):
            reason = NEGATION
        return _Sentence(sentence.text, sentence.cited, reason)

    def _verdict(self, request: DraftRequest, draft: Draft, sentences: Sequence[_Sentence]) -> Grounded:
        kept = [s for s in sentences if s.reason is None]
        dropped = tuple(Dropped(s.text, s.reason) for s in sentences if s.reason is not None)
        if len(kept) < self.min_kept:
            return Grounded(None, len(kept), dropped)
        citations: list[Citation] = []
        parts = []
        for sentence in kept:
            numbers = []
            for passage in sentence.cited:
                citation = citation_of(passage)
                if citation not in citations:
                    citations.append(citation)
                numbers.append(f"[{citations.index(citation) + 1}]")
            parts.append(f"{sentence.text} {' '.join(dict.fromkeys(numbers))}")
        text = f"{opening_for(request.label)}\n\n" + " ".join(parts)
        return Grounded(Draft(text, tuple(citations), draft.generator, draft.generator_version), len(kept), dropped)


def sentences_of(text: str) -> list[str]:
    """A draft's sentences, each with the markers that follow it (`foo. [1]` and `foo [1].` alike)."""
    return [" ".join(s.split()) for line in text.splitlines() for s in _BOUNDARY.split(line) if s.strip()]


def _parse(request: DraftRequest, draft: Draft, min_word_coverage: float) -> list[_Sentence]:
    """The draft's sentences (its opening line aside) with their cited passages and any lexical failure."""
    body = draft.text.removeprefix(opening_for(request.label))
    retrieved = {citation_of(p): p for p in request.passages}
    sentences = []
    for raw in sentences_of(body):
        text = _MARKER.sub("", raw).strip()
        if not text:
            continue
        numbers = [int(n) for n in _MARKER.findall(raw)]
        cited = [draft.citations[n - 1] if 1 <= n <= len(draft.citations) else None for n in numbers]
        passages = tuple(dict.fromkeys(retrieved[c] for c in cited if c in retrieved))
        reason = None
        if not numbers:
            reason = UNCITED
        elif len(passages) < len(set(cited)) or None in cited:
            reason = NOT_RETRIEVED
        elif _unsupported_terms(text, passages):
            reason = UNSUPPORTED_TERM
        elif _covered(text, passages) < min_word_coverage:
            reason = UNSUPPORTED_WORDS
        sentences.append(_Sentence(text, passages, reason))
    return sentences


def _unsupported_terms(sentence: str, passages: Sequence[Passage]) -> list[str]:
    """Numbers and capitalised names of the sentence that none of the passages contains."""
    source = " ".join(p.text for p in passages)
    lowered = source.lower()
    terms = [n for n in _NUMBER.findall(sentence) if n not in source]
    names = [name for name in _NAME.findall(sentence) if name.lower() not in lowered]
    return terms + names


def _covered(sentence: str, passages: Sequence[Passage]) -> float:
    """Share of the sentence's content words (stemmed) found in the passages (1.0 when it has none)."""
    words = [_stem(w) for w in _WORD.findall(sentence.lower()) if w not in _STOPWORDS and len(w) > 2]
    if not words:
        return 1.0
    source = {_stem(w) for w in _WORD.findall(" ".join(p.text for p in passages).lower())}
    return sum(1 for w in words if w in source) / len(words)


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _contradicts(sentence: str, source: str) -> bool:
    """One of the two negates what the other asserts: a word negated in one occurs un-negated in the other."""
    said, negated = _polarity(sentence)
    source_said, source_negated = _polarity(source)
    return bool(negated & source_said or source_negated & said)


def _polarity(text: str) -> tuple[set[str], set[str]]:
    """Content words (stemmed) asserted, and those negated: the first content word after a negation."""
    words = _WORD.findall(text.lower())
    negated: set[str] = set()
    for i, word in enumerate(words):
        if word in _NEGATIONS or word.endswith("n't"):
            target = next((w for w in words[i + 1 :] if w not in _STOPWORDS and w not in _NEGATIONS), None)
            if target is not None:
                negated.add(_stem(target))
    content = {_stem(w) for w in words if w not in _STOPWORDS and w not in _NEGATIONS}
    return content - negated, negated
