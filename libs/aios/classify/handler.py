"""The classify handler: one consumed batch of events → one classified record per event.

Records are grouped by the version that decides them (production or canary, per tenant), so
each version sees one batched call; the shadow version of a route classifies the same texts
again and its answer is attached, never used. The routing table is read once per batch: a
promotion applies from the next batch, so no output is lost or made twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from aios.classify.backend import InferenceBackend
from aios.classify.routes import ModelRef, RoutingTable
from aios.drift.monitor import DriftMonitor
from aios.inference.classifier import Prediction
from aios.kafka import topics
from aios.kafka.errors import TransientError
from aios.kafka.records import InputRecord, OutputRecord
from aios.observability import metrics
from aios.schemas.records import Classification, EventClassified, EventReceived, LabelScore


class ClassifyHandler:
    def __init__(
        self,
        backend: InferenceBackend,
        routes: Callable[[], RoutingTable],
        *,
        top_k: int = 3,
        output_topic: str = topics.EVENTS_CLASSIFIED.name,
        service: str = "classify",
        drift: DriftMonitor | None = None,
    ) -> None:
        self.backend = backend
        self.routes = routes
        self.top_k = top_k
        self.output_topic = output_topic
        self.service = service
        self.drift = drift

    def __call__(self, records: list[InputRecord]) -> list[OutputRecord]:
        table = self.routes()
        events = [EventReceived.from_avro(record.value) for record in records]
        deciding: list[tuple[ModelRef, str]] = []
        shadows: list[ModelRef | None] = []
        for event in events:
            route = table.route_for(event.tenant_id)
            if route is None:
                # Nothing is promoted for this tenant yet: retry rather than dead-letter valid events.
                raise TransientError(f"no production model for tenant {event.tenant_id}")
            deciding.append(route.choose(event.event_id))
            shadows.append(route.shadow)
        texts = [event.text for event in events]
        tenants = [event.tenant_id for event in events]
        decided = self._classify(texts, tenants, [ref for ref, _ in deciding])
        shadowed = self._classify(texts, tenants, shadows)
        outputs = []
        for i, (record, event) in enumerate(zip(records, events, strict=True)):
            (ref, alias), (prediction, ms) = deciding[i], decided[i]
            shadow_ref, shadow = shadows[i], shadowed.get(i)
            classified = EventClassified(
                event_id=event.event_id,
                tenant_id=event.tenant_id,
                occurred_at=event.occurred_at,
                type=event.type,
                text=event.text,
                attributes=event.attributes,
                classification=self._classification(prediction, ref, alias, ms),
                shadow=(
                    self._classification(shadow[0], shadow_ref, "shadow", shadow[1]) if shadow and shadow_ref else None
                ),
                trace=record.trace_field(),
            )
            outputs.append(record.output(self.output_topic, classified.to_avro()))
            metrics.record_prediction(self.service, ref.name, ref.version, alias, prediction.confidence, prediction.oos)
            if shadow and shadow_ref:
                metrics.record_prediction(
                    self.service, shadow_ref.name, shadow_ref.version, "shadow", shadow[0].confidence, shadow[0].oos
                )
        return outputs

    def _classify(
        self, texts: Sequence[str], tenants: Sequence[str], refs: Sequence[ModelRef | None]
    ) -> dict[int, tuple[Prediction, float]]:
        """Prediction and batch milliseconds per position, one backend call per version.

        Each call's time is charged to the tenants of its texts (the cost signal), and its
        predictions go to the drift monitor of that version.
        """
        groups: dict[ModelRef, list[int]] = {}
        for position, ref in enumerate(refs):
            if ref is not None:
                groups.setdefault(ref, []).append(position)
        found: dict[int, tuple[Prediction, float]] = {}
        for ref, positions in groups.items():
            started = time.perf_counter()
            predictions = self.backend.predict(ref, [texts[p] for p in positions], self.top_k)
            seconds = time.perf_counter() - started
            metrics.record_inference(
                self.service, ref.name, ref.version, self.backend.name, seconds, [tenants[p] for p in positions]
            )
            if self.drift is not None:
                self.drift.observe(
                    ref.name, ref.version, [p.label for p in predictions], [p.confidence for p in predictions]
                )
            found.update(
                {p: (prediction, seconds * 1000) for p, prediction in zip(positions, predictions, strict=True)}
            )
        return found

    def _classification(self, prediction: Prediction, ref: ModelRef, alias: str, ms: float) -> Classification:
        return Classification(
            label=prediction.label,
            confidence=prediction.confidence,
            oos=prediction.oos,
            top_k=[LabelScore(label=label, confidence=confidence) for label, confidence in prediction.top_k],
            model_name=ref.name,
            model_version=ref.version,
            model_alias=alias,
            backend=self.backend.name,
            inference_ms=ms,
        )
