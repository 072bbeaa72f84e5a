"""The retrieve-generate handler: one batch of classified events → one enriched record per event.

Per batch: one query reads the KB revision and draft settings of the batch's tenants (reloading
dense matrices that moved), events whose label the tenant's policy exempts are passed on without a
draft, the remaining texts are redacted and embedded in one encoder call, retrieved in one lexical
round trip plus one matrix product per tenant, and drafted with one call per generator (the
tenant's choice for the event's label; generative drafts are guarded and fall back to extractive
within a time budget, `aios.generation.drafter`). Drafts are redacted again before they are stored.
Every event gets its record, drafted or not, so the
pipeline always reaches the decide service; `draft_skipped` says why a draft is missing.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from aios.generation.base import Draft, DraftRequest
from aios.generation.drafter import Drafter, GroundingReport
from aios.generation.endpoints import OPENAI
from aios.inference.encoder import SentenceEncoder
from aios.kafka.records import InputRecord, OutputRecord
from aios.observability import metrics
from aios.pii import redact
from aios.retrieval.endpoint import GeneratorEndpoint
from aios.retrieval.retriever import Query, Retriever
from aios.retrieval.store import TenantKb
from aios.retrieval.types import Passage, snippet
from aios.retrieve_generate.settings import RetrieveGenerateSettings
from aios.schemas.records import Citation, DroppedSentence, EventClassified, EventEnriched, Grounding
from aios.schemas.records import Draft as DraftRecord
from aios.schemas.records import Passage as PassageRecord

T = TypeVar("T")
Run = Callable[[Awaitable[T]], T]
"""Runs a coroutine of the KB store to completion (the service owns the event loop)."""

POLICY, NO_PASSAGES, NO_ANSWER = "policy", "no_passages", "no_answer"


@dataclass
class _Work:
    """One event on its way through the batch."""

    record: InputRecord
    event: EventClassified
    generator: str
    pii: list[str]
    endpoint: GeneratorEndpoint | None = None
    """The tenant's own server, when its generator is `openai` and it has one."""
    text: str = ""
    skipped: str | None = None
    passages: Sequence[Passage] = ()
    vector: np.ndarray | None = None
    draft: Draft | None = None
    grounding: GroundingReport | None = None


class RetrieveGenerateHandler:
    def __init__(
        self,
        retriever: Retriever,
        encoder: SentenceEncoder,
        drafter: Drafter,
        run: Run[Any],
        settings: RetrieveGenerateSettings | None = None,
        service: str = "retrieve-generate",
    ) -> None:
        self.retriever = retriever
        self.encoder = encoder
        self.drafter = drafter
        self.run = run
        self.settings = settings or RetrieveGenerateSettings()
        self.service = service

    def __call__(self, records: list[InputRecord]) -> list[OutputRecord]:
        events = [EventClassified.from_avro(record.value) for record in records]
        kbs: dict[str, TenantKb] = self.run(self.retriever.refresh([e.tenant_id for e in events]))
        work = [self._plan(r, e, kbs.get(e.tenant_id)) for r, e in zip(records, events, strict=True)]
        todo = [w for w in work if w.skipped is None]
        timings = {"embed": 0.0, "retrieve": 0.0}
        if todo:
            started = time.perf_counter()
            vectors = self.encoder.encode([w.text for w in todo])
            timings["embed"] = time.perf_counter() - started
            queries = [Query(w.event.tenant_id, w.text, v) for w, v in zip(todo, vectors, strict=True)]
            started = time.perf_counter()
            found = self.run(self.retriever.search(queries, self.settings.passages, self.settings.mode, kbs))
            timings["retrieve"] = time.perf_counter() - started
            for w, passages, vector in zip(todo, found, vectors, strict=True):
                w.passages = passages
                w.vector = vector
                w.skipped = None if passages else NO_PASSAGES
        generate_seconds = self._generate([w for w in todo if w.skipped is None])
        for stage, seconds in timings.items():
            metrics.RETRIEVE_GENERATE_SECONDS.labels(self.service, stage).observe(seconds)
        return [self._output(w, timings, generate_seconds) for w in work]

    def _plan(self, record: InputRecord, event: EventClassified, kb: TenantKb | None) -> _Work:
        """The tenant's policy for this event; its text redacted for retrieval and the generator."""
        generator = (kb.generator_for(event.classification.label) if kb else None) or self.settings.generator
        exempt = kb.no_draft_labels if kb and kb.no_draft_labels is not None else self.settings.no_draft_labels
        if event.classification.label in exempt:
            return _Work(record, event, generator, [], skipped=POLICY)
        redaction = redact(event.text)
        endpoint = kb.endpoint if kb and generator == OPENAI else None
        return _Work(record, event, generator, list(redaction.found), endpoint, text=redaction.text)

    def _generate(self, work: Sequence[_Work]) -> dict[str, float]:
        """Draft with one call per generator and server (guarded, with the extractive fallback); seconds each took."""
        seconds: dict[str, float] = {}
        for name, endpoint in dict.fromkeys((w.generator, w.endpoint) for w in work):
            mine = [w for w in work if (w.generator, w.endpoint) == (name, endpoint)]
            requests = [DraftRequest(w.text, w.event.classification.label, w.passages, w.vector) for w in mine]
            started = time.perf_counter()
            results = self.drafter.draft(name, requests, endpoint)
            took = time.perf_counter() - started
            seconds[name] = seconds.get(name, 0.0) + took
            metrics.RETRIEVE_GENERATE_SECONDS.labels(self.service, "generate").observe(took)
            for w, result in zip(mine, results, strict=True):
                w.grounding = result.grounding
                draft = result.draft
                if draft is None:
                    w.skipped = NO_ANSWER
                    continue
                # Drafts never carry personal data back in, whatever the model made up or echoed.
                redaction = redact(draft.text)
                w.pii += redaction.found
                w.draft = Draft(redaction.text, draft.citations, draft.generator, draft.generator_version)
        return seconds

    def _output(self, w: _Work, timings: dict[str, float], generate_seconds: dict[str, float]) -> OutputRecord:
        # Stages of the batch this event went through (an exempt event went through none).
        seconds = {} if w.skipped == POLICY else dict(timings)
        if w.generator in generate_seconds and w.skipped in (None, NO_ANSWER):
            seconds["generate"] = generate_seconds[w.generator]
        event = w.event
        enriched = EventEnriched(
            event_id=event.event_id,
            tenant_id=event.tenant_id,
            occurred_at=event.occurred_at,
            type=event.type,
            text=event.text,
            attributes=event.attributes,
            classification=event.classification,
            passages=[
                PassageRecord(
                    chunk_id=p.key.chunk_id,
                    document_id=p.key.document_id,
                    title=p.title,
                    score=p.score,
                    snippet=snippet(p.text, self.settings.snippet_chars),
                )
                for p in w.passages
            ],
            draft=(
                DraftRecord(
                    text=w.draft.text,
                    citations=[Citation(document_id=c.document_id, chunk_id=c.chunk_id) for c in w.draft.citations],
                    generator=w.draft.generator,
                    generator_version=w.draft.generator_version,
                )
                if w.draft
                else None
            ),
            draft_skipped=w.skipped,
            grounding=_grounding_record(w.grounding),
            pii_found=sorted(set(w.pii)),
            timings_ms={stage: s * 1000 for stage, s in seconds.items()},
            trace=w.record.trace_field(),
        )
        for kind in w.pii:
            metrics.PII_REDACTED.labels(self.service, kind).inc()
        metrics.DRAFTS.labels(self.service, w.generator, w.skipped or "drafted").inc()
        return w.record.output(self.settings.output_topic, enriched.to_avro())


def _grounding_record(report: GroundingReport | None) -> Grounding | None:
    if report is None:
        return None
    return Grounding(
        generator=report.generator,
        fell_back=report.fell_back,
        fallback_reason=report.fallback_reason,
        kept=report.kept,
        dropped=[DroppedSentence(sentence=redact(d.sentence).text, reason=d.reason) for d in report.dropped],
    )
