"""Drafts by the generator a tenant chose, held to their passages, with the extractive draft as the fallback.

The extractive generator writes only verbatim, cited KB sentences, so its drafts need no guard.
Every other generator's draft goes through the grounding guard; the extractive draft replaces it
when the generator was too slow, full, failing or silent, or when too little survived the guard.
The report says which of these happened, so the enriched record can carry it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aios.generation.base import Draft, DraftRequest, Generator
from aios.generation.budget import BudgetedGenerator
from aios.generation.endpoints import OPENAI, EndpointGenerators
from aios.generation.grounding import Dropped, GroundingGuard
from aios.observability import metrics
from aios.retrieval.endpoint import GeneratorEndpoint

EXTRACTIVE = "extractive"
UNGROUNDED = "ungrounded"


@dataclass(frozen=True)
class GroundingReport:
    generator: str
    """The generator chosen for the event."""
    fell_back: bool
    fallback_reason: str | None
    kept: int
    dropped: tuple[Dropped, ...]
    generated: Draft | None
    """The draft as the generator wrote it, before the guard (for evaluation)."""


@dataclass(frozen=True)
class Drafted:
    draft: Draft | None
    grounding: GroundingReport | None
    """None for the extractive generator's own drafts."""


class Drafter:
    def __init__(
        self,
        extractive: Generator,
        generative: Mapping[str, BudgetedGenerator],
        guard: GroundingGuard,
        service: str = "retrieve-generate",
        endpoints: EndpointGenerators | None = None,
    ) -> None:
        self.extractive = extractive
        self.generative = generative
        self.guard = guard
        self.service = service
        self.endpoints = endpoints
        """Generators for tenants' own `openai` servers; without it those tenants use the service's."""

    def draft(
        self, generator: str, requests: Sequence[DraftRequest], endpoint: GeneratorEndpoint | None = None
    ) -> list[Drafted]:
        """One result per request, in order; `endpoint`: the tenant's own server for the `openai` generator."""
        budgeted = self._budgeted(generator, endpoint)
        if budgeted is None:
            return [Drafted(draft, None) for draft in self.extractive.generate(requests)]
        outcomes = budgeted.generate(requests)
        produced = {i: outcome.draft for i, outcome in enumerate(outcomes) if outcome.draft is not None}
        checked = self.guard.check([requests[i] for i in produced], list(produced.values()))
        verdicts = dict(zip(produced, checked, strict=True))
        reports: list[GroundingReport] = []
        for i, outcome in enumerate(outcomes):
            verdict = verdicts.get(i)
            reason = outcome.fallback or (UNGROUNDED if verdict is None or verdict.draft is None else None)
            kept, dropped = (verdict.kept, verdict.dropped) if verdict else (0, ())
            report = GroundingReport(generator, reason is not None, reason, kept, dropped, outcome.draft)
            reports.append(report)
            for sentence in dropped:
                metrics.DRAFT_SENTENCES_DROPPED.labels(self.service, generator, sentence.reason).inc()
            if reason is not None:
                metrics.DRAFT_FALLBACKS.labels(self.service, generator, reason).inc()
        fallback = [i for i, report in enumerate(reports) if report.fell_back]
        extractive = dict(zip(fallback, self.extractive.generate([requests[i] for i in fallback]), strict=True))
        return [
            Drafted(extractive[i] if report.fell_back else verdicts[i].draft, report)
            for i, report in enumerate(reports)
        ]

    def _budgeted(self, generator: str, endpoint: GeneratorEndpoint | None) -> BudgetedGenerator | None:
        if generator == OPENAI and endpoint is not None and self.endpoints is not None:
            return self.endpoints.get(endpoint)
        return self.generative.get(generator)

    def close(self) -> None:
        for budgeted in self.generative.values():
            budgeted.close()
        if self.endpoints is not None:
            self.endpoints.close()
