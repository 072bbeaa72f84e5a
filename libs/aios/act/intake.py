"""The consumer-loop handler of act: decisions into the inbox, in one transaction per batch.

Nothing is performed here, so the loop never waits for a connector. Only decisions signed by decide
are taken (`aios.keys.signing`): one written to the topic by anyone else is dead-lettered. Actions whose id the inbox
already holds (a redelivered decision, or one decided again) are answered with a SKIPPED_DUPLICATE
record each and run nothing.
"""

from __future__ import annotations

from aios.act.executor import Executor
from aios.act.plan import DecisionPlan, executed_record, plan, record_key
from aios.act.store import ActStore, Source
from aios.db.pool import UNAVAILABLE_ERRORS
from aios.kafka.errors import TransientError
from aios.kafka.records import InputRecord, OutputRecord
from aios.kafka.serde import Codecs
from aios.kafka.topics import DECISIONS
from aios.keys.signing import RecordVerifier
from aios.observability import metrics
from aios.runtime.background import BackgroundLoop
from aios.schemas.records import Decision


class ActIntake:
    def __init__(
        self,
        runtime: BackgroundLoop,
        store: ActStore,
        executor: Executor,
        codecs: Codecs,
        output_topic: str,
        service: str = "act",
    ) -> None:
        self.runtime = runtime
        self.store = store
        self.executor = executor
        self.codecs = codecs
        self.output_topic = output_topic
        self.service = service
        self.decisions = RecordVerifier("decide", DECISIONS.name)

    def __call__(self, records: list[InputRecord]) -> list[OutputRecord]:
        planned: list[tuple[DecisionPlan, Source, InputRecord]] = []
        for record in records:
            # A forged decision fails the batch; the loop then dead-letters it alone, with this reason.
            self.decisions.verify(record.value)
            decision = plan(Decision.from_avro(record.value))
            if decision is not None:
                source = Source(
                    record.topic,
                    record.partition,
                    record.offset,
                    record.key,
                    self.codecs.encode(record.topic, record.value),
                    dict(record.trace),
                )
                planned.append((decision, source, record))
        if not planned:
            return []
        try:
            added = self.runtime.run(self.store.enqueue([(d, s) for d, s, _ in planned]))
        except UNAVAILABLE_ERRORS as exc:
            raise TransientError(f"act inbox unavailable: {exc}") from exc
        self.runtime.loop.call_soon_threadsafe(self.executor.wake)
        # The first occurrence of an added id is the one that runs; every other occurrence, in this
        # batch or delivered before, is a duplicate.
        outputs = []
        for decision, _, record in planned:
            for action in decision.actions:
                if action.action_id in added:
                    added.discard(action.action_id)
                else:
                    outputs.append(self._skipped(decision, action.action_id, action.action_type, record))
        return outputs

    def _skipped(self, decision: DecisionPlan, action_id: str, action_type: str, record: InputRecord) -> OutputRecord:
        metrics.ACT_ACTIONS.labels(self.service, action_type.partition(".")[0], "skipped_duplicate").inc()
        executed = executed_record(
            event_id=decision.event_id,
            tenant_id=decision.tenant_id,
            occurred_at=decision.occurred_at,
            decision_id=decision.decision_id,
            action_id=action_id,
            action_type=action_type,
            status="SKIPPED_DUPLICATE",
            attempts=0,
            trace=record.trace_field(),
        )
        return record.output(
            self.output_topic, executed.to_avro(), key=record_key(decision.tenant_id, decision.event_id)
        )
