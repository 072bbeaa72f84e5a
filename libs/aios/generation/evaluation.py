"""Draft quality on labelled queries: answer rate, faithfulness, fallback rate and time per draft.

Faithfulness is judged independently of the grounding guard. A sentence is supported when it
occurs verbatim in the passage it cites (every extractive sentence), or when a human labelled it
so: the labelled set holds, per query, each generated sentence with the chunk it cites and a
label (`supported`, `unsupported`, or `no_claim` for greetings that state nothing). A generated
sentence found in neither is `unlabelled` and counted apart, so a changed model shows up as low
coverage rather than as a silently different score.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from aios.generation.base import Draft, DraftRequest
from aios.generation.drafter import Drafter
from aios.generation.grounding import sentences_of
from aios.generation.openings import opening_for
from aios.retrieval.errors import EvaluationDataError
from aios.retrieval.types import Passage

SUPPORTED, UNSUPPORTED, NO_CLAIM, UNLABELLED = "supported", "unsupported", "no_claim", "unlabelled"
LABELS = (SUPPORTED, UNSUPPORTED, NO_CLAIM)
_MARKER = re.compile(r"\s*\[(\d+)\]")


@dataclass(frozen=True)
class DraftQuery:
    query: str
    relevant: frozenset[str]
    intent: str
    judged: dict[tuple[str, str], str]
    """(sentence without markers, cited chunk id or "") -> label."""


@dataclass(frozen=True)
class CitedSentence:
    text: str
    chunk_id: str
    """The first cited chunk; "" when the sentence cites none."""


def load_draft_queries(path: Path) -> list[DraftQuery]:
    """Lines `{"query", "relevant": [ids], "intent", "judged": [{"sentence", "chunk_id", "label"}]}`."""
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            judged = {(j["sentence"], j["chunk_id"]): j["label"] for j in item.get("judged", [])}
            if any(label not in LABELS for label in judged.values()):
                raise ValueError(f"labels must be one of {', '.join(LABELS)}")
            items.append(DraftQuery(item["query"], frozenset(item["relevant"]), item["intent"], judged))
        except (ValueError, KeyError, TypeError) as exc:
            raise EvaluationDataError(f"{path}:{number}: {exc}") from exc
    if not items:
        raise EvaluationDataError(f"{path}: no queries")
    return items


def cited_sentences(draft: Draft, label: str) -> list[CitedSentence]:
    """The draft's sentences after its opening line, each with the first chunk it cites."""
    body = draft.text.removeprefix(opening_for(label))
    found = []
    for raw in sentences_of(body):
        text = _MARKER.sub("", raw).strip()
        numbers = [int(n) for n in _MARKER.findall(raw) if 1 <= int(n) <= len(draft.citations)]
        if text:
            found.append(CitedSentence(text, draft.citations[numbers[0] - 1].chunk_id if numbers else ""))
    return found


def judge(sentence: CitedSentence, passages: Sequence[Passage], judged: dict[tuple[str, str], str]) -> str:
    """The human label, else `supported` for a verbatim sentence of the cited passage, else `unlabelled`."""
    label = judged.get((sentence.text, sentence.chunk_id))
    if label is not None:
        return label
    source = next((p.text for p in passages if p.key.chunk_id == sentence.chunk_id), None)
    if source is not None and sentence.text in " ".join(source.split()):
        return SUPPORTED
    return UNLABELLED


@dataclass
class Tally:
    """Counts for one generator over the labelled queries."""

    drafts: int = 0
    answered: int = 0
    fallbacks: int = 0
    before: dict[str, int] = field(default_factory=dict)
    after: dict[str, int] = field(default_factory=dict)
    seconds: list[float] = field(default_factory=list)

    def add_sentences(self, which: dict[str, int], labels: Iterable[str]) -> None:
        for label in labels:
            which[label] = which.get(label, 0) + 1

    def as_dict(self) -> dict[str, float | int | None]:
        return {
            "drafts": self.drafts,
            "answer_rate": _share(self.answered, self.drafts),
            "faithfulness_before_guard": _faithfulness(self.before),
            "faithfulness": _faithfulness(self.after),
            "sentences_before_guard": sum(self.before.values()),
            "sentences": sum(self.after.values()),
            "unlabelled_sentences": self.before.get(UNLABELLED, 0) + self.after.get(UNLABELLED, 0),
            "fallback_rate": _share(self.fallbacks, self.drafts),
            "p50_s": float(np.percentile(self.seconds, 50)) if self.seconds else None,
            "p99_s": float(np.percentile(self.seconds, 99)) if self.seconds else None,
        }


def _faithfulness(counts: dict[str, int]) -> float | None:
    """Supported share of the sentences that state something and carry a label."""
    claims = counts.get(SUPPORTED, 0) + counts.get(UNSUPPORTED, 0)
    return _share(counts.get(SUPPORTED, 0), claims)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def evaluate(
    items: Sequence[DraftQuery],
    passages: Sequence[Sequence[Passage]],
    texts: Sequence[str],
    drafter: Drafter,
    generators: Sequence[str],
) -> tuple[dict[str, Tally], list[dict[str, object]]]:
    """Each query drafted by each generator, one at a time (so each draft is timed alone).

    Also returns every generated sentence before the guard, with the passage it cites: the sheet
    a human labels to extend the labelled set.
    """
    tallies = {name: Tally() for name in generators}
    sheet: list[dict[str, object]] = []
    for item, found, text in zip(items, passages, texts, strict=True):
        request = DraftRequest(text, item.intent, found)
        for name in generators:
            tally = tallies[name]
            started = time.perf_counter()
            [result] = drafter.draft(name, [request])
            tally.seconds.append(time.perf_counter() - started)
            tally.drafts += 1
            report = result.grounding
            if report is not None and report.fell_back:
                tally.fallbacks += 1
            if report is not None and report.generated is not None:
                before = cited_sentences(report.generated, item.intent)
                tally.add_sentences(tally.before, (judge(s, found, item.judged) for s in before))
                sheet += [_sheet_row(item, s, found) for s in before]
            if result.draft is None:
                continue
            if any(c.document_id in item.relevant for c in result.draft.citations):
                tally.answered += 1
            after = cited_sentences(result.draft, item.intent)
            tally.add_sentences(tally.after, (judge(s, found, item.judged) for s in after))
    return tallies, sheet


def _sheet_row(item: DraftQuery, sentence: CitedSentence, passages: Sequence[Passage]) -> dict[str, object]:
    source = next((p.text for p in passages if p.key.chunk_id == sentence.chunk_id), "")
    return {
        "query": item.query,
        "sentence": sentence.text,
        "chunk_id": sentence.chunk_id,
        "passage": " ".join(source.split()),
        "label": item.judged.get((sentence.text, sentence.chunk_id)),
    }
