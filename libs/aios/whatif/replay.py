"""Re-running recorded events through a candidate model and policy, in process and without side effects.

Nothing is produced and nothing is written: the candidate's verdicts exist only in the report. The
tenant's traffic state (events per minute, low-confidence share) is simulated over the recorded event
times with the same windows decide keeps, so stream rules see what they would have seen.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from aios.decide.decider import DEFAULT_LOW_CONFIDENCE
from aios.decide.decisions import no_policy_verdict
from aios.inference.classifier import Prediction, TextClassifier
from aios.policy.evaluate import EventFacts, Verdict, evaluate
from aios.policy.loading import LoadedPolicy
from aios.policy.stream import InMemoryStreamStats
from aios.whatif.compare import Outcome, OutcomeName, Replayed
from aios.whatif.recorded import RecordedEvent, Tracker, no_progress

PREDICT_BATCH = 64
OUTCOMES: dict[str, OutcomeName] = {"auto": "AUTO", "review": "REVIEW", "reject": "REJECT"}


@dataclass(frozen=True)
class Candidate:
    """What to try: a policy file and/or a model; what is not given is what was recorded."""

    policy: LoadedPolicy | None = None
    model: TextClassifier | None = None


PolicyOf = Callable[[RecordedEvent], LoadedPolicy | None]
"""The policy that decided a recorded event (its recorded version), None when the tenant had none."""


def replay(
    events: Sequence[RecordedEvent], candidate: Candidate, recorded_policy: PolicyOf, track: Tracker = no_progress
) -> list[Replayed]:
    """One `Replayed` per event of the window (warm-up events only feed the traffic state)."""
    predictions = _predictions(events, candidate.model, track)
    stats = InMemoryStreamStats()
    step = track("replaying", len(events))
    replayed = []
    for event, prediction in zip(events, predictions, strict=True):
        facts = EventFacts.from_enriched(event.value)
        if prediction is not None:
            facts = replace(facts, label=prediction.label, confidence=prediction.confidence, oos=prediction.oos)
        loaded = candidate.policy or recorded_policy(event)
        low_below = loaded.policy.stream.low_confidence_below if loaded else DEFAULT_LOW_CONFIDENCE
        state = stats.observe(facts.tenant_id, event.timestamp_s, facts.confidence < low_below)
        verdict: Verdict = no_policy_verdict(0) if loaded is None else evaluate(loaded.policy, facts, state)
        if event.in_window:
            after = Outcome(OUTCOMES[verdict.outcome], verdict.rule, verdict.reason, facts.label)
            replayed.append(Replayed(event.event_id, event.happened, after, event.reviewed))
        step()
    return replayed


def _predictions(
    events: Sequence[RecordedEvent], model: TextClassifier | None, track: Tracker
) -> list[Prediction | None]:
    if model is None:
        return [None] * len(events)
    texts = [str(event.value.get("text", "")) for event in events]
    step = track("classifying with the candidate", len(texts))
    predictions: list[Prediction | None] = []
    for start in range(0, len(texts), PREDICT_BATCH):
        batch = model.predict(texts[start : start + PREDICT_BATCH])
        predictions += batch
        for _ in batch:
            step()
    return predictions
