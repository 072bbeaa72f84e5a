"""The extractive generator: a draft made only of sentences copied from retrieved chunks, each cited.

Candidate sentences are those of the passages (split as chunks were cut), full sentences only
(ending in . ! or ?, at least four words: headings and fragments state nothing on their own). They
are ranked by cosine similarity to the event text (the embedding retrieval made, when given);
sentences not seen before are embedded in one encoder call per batch and kept, since a knowledge
base changes rarely.

A draft quotes one article: the best-matching document, i.e. the first in retrieval order with a
sentence above the similarity floor. Sentences of neighbouring articles can be as similar to the
event text while saying something else ("Because the card was not lost or stolen…" from the
damaged-card article, for a stolen card), and retrieval ranks the right article first far more
often than sentence similarity picks it. Within that document, sentences well below its best one
are dropped; the best few are written in the article's order. Nothing is paraphrased: every
sentence after the opening line is a verbatim KB sentence followed by its citation marker.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from aios.generation.base import Citation, Draft, DraftRequest, citation_of
from aios.generation.openings import opening_for
from aios.inference.encoder import SentenceEncoder
from aios.retrieval.chunking import split_sentences

VERSION = "1"


@dataclass(frozen=True)
class _Candidate:
    request: int
    passage: int
    position: int
    sentence: str


class ExtractiveGenerator:
    name = "extractive"
    version = VERSION

    def __init__(
        self,
        encoder: SentenceEncoder,
        *,
        max_sentences: int = 3,
        min_similarity: float = 0.2,
        min_relative_similarity: float = 0.6,
        cache_size: int = 100_000,
    ) -> None:
        self.encoder = encoder
        self.max_sentences = max_sentences
        self.min_similarity = min_similarity
        self.min_relative_similarity = min_relative_similarity
        self.cache_size = cache_size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def generate(self, requests: Sequence[DraftRequest]) -> list[Draft | None]:
        candidates = [c for i, request in enumerate(requests) for c in _candidates(i, request)]
        if not candidates:
            return [None] * len(requests)
        queries = self._query_vectors(requests)
        sentences = self._sentence_vectors([c.sentence for c in candidates])
        similarity = np.einsum("ij,ij->i", sentences, queries[[c.request for c in candidates]])
        drafts: list[Draft | None] = []
        for i, request in enumerate(requests):
            mine = [j for j, c in enumerate(candidates) if c.request == i and similarity[j] >= self.min_similarity]
            chosen = self._choose(request, [(candidates[j], float(similarity[j])) for j in mine])
            drafts.append(self._draft(request, chosen) if chosen else None)
        return drafts

    def _choose(self, request: DraftRequest, scored: Sequence[tuple[_Candidate, float]]) -> list[_Candidate]:
        """The best sentences of the best-matching document that has any, in the article's order."""
        if not scored:
            return []
        document = min(scored, key=lambda item: item[0].passage)[0].passage
        best_document = request.passages[document].key.document_id
        theirs = [(c, s) for c, s in scored if request.passages[c.passage].key.document_id == best_document]
        floor = self.min_relative_similarity * max(s for _, s in theirs)
        best = sorted((item for item in theirs if item[1] >= floor), key=lambda item: -item[1])[: self.max_sentences]
        return sorted((c for c, _ in best), key=lambda c: (request.passages[c.passage].key.chunk_no, c.position))

    def _query_vectors(self, requests: Sequence[DraftRequest]) -> np.ndarray:
        """The event texts' embeddings: those retrieval computed already, the others in one encoder call."""
        missing = [i for i, request in enumerate(requests) if request.vector is None]
        encoded = dict(zip(missing, self.encoder.encode([requests[i].text for i in missing]), strict=True))
        return np.stack([encoded[i] if r.vector is None else r.vector for i, r in enumerate(requests)])

    def _sentence_vectors(self, sentences: Sequence[str]) -> np.ndarray:
        """KB sentences' embeddings; a knowledge base changes rarely, so each sentence is embedded once (LRU)."""
        missing = list(dict.fromkeys(s for s in sentences if s not in self._cache))
        for sentence, vector in zip(missing, self.encoder.encode(missing), strict=True):
            self._cache[sentence] = vector
        for sentence in sentences:
            self._cache.move_to_end(sentence)
        rows = np.stack([self._cache[s] for s in sentences])
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return rows

    def _draft(self, request: DraftRequest, chosen: Sequence[_Candidate]) -> Draft:
        citations: list[Citation] = []
        parts = []
        for candidate in chosen:
            citation = citation_of(request.passages[candidate.passage])
            if citation not in citations:
                citations.append(citation)
            parts.append(f"{candidate.sentence} [{citations.index(citation) + 1}]")
        text = f"{opening_for(request.label)}\n\n" + " ".join(parts)
        return Draft(text, tuple(citations), self.name, self.version)


def _candidates(request_index: int, request: DraftRequest) -> list[_Candidate]:
    """Full sentences of the passages; a sentence repeated by overlapping chunks counts once, at its best passage."""
    seen: set[str] = set()
    found = []
    for p, passage in enumerate(request.passages):
        for position, sentence in enumerate(split_sentences(passage.text)):
            if sentence in seen or not _statement(sentence):
                continue
            seen.add(sentence)
            found.append(_Candidate(request_index, p, position, sentence))
    return found


def _statement(sentence: str) -> bool:
    return sentence.endswith((".", "!", "?")) and len(sentence.split()) >= 4
