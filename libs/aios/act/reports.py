"""The records act writes about an action, encoded for the outbox or the consumer loop."""

from __future__ import annotations

from confluent_kafka import Message

from aios.act.plan import executed_record, record_key
from aios.act.store import ClaimedAction
from aios.kafka.deadletter import dead_letter_record
from aios.kafka.serde import Codecs
from aios.observability.tracing import TRACEPARENT, TRACESTATE
from aios.outbox.publisher import OutboxRecord
from aios.schemas.records import ActionExecuted, ActionStatus, DeadLetter, TraceContext


class Reports:
    def __init__(self, codecs: Codecs, executed_topic: str, deadletter_topic: str, service: str) -> None:
        self.codecs = codecs
        self.executed_topic = executed_topic
        self.deadletter_topic = deadletter_topic
        self.service = service

    def executed(
        self,
        action: ClaimedAction,
        status: ActionStatus,
        *,
        external_ref: str | None = None,
        error: str | None = None,
        about: tuple[str, str] | None = None,
    ) -> OutboxRecord:
        """An `aios.actions.executed` record; `about` (id, type) names another action than the one run (COMPENSATED)."""
        action_id, action_type = about or (action.action_id, action.action_type)
        record = executed_record(
            event_id=action.event_id,
            tenant_id=action.tenant_id,
            occurred_at=action.occurred_at,
            decision_id=action.decision_id,
            action_id=action_id,
            action_type=action_type,
            status=status,
            attempts=action.attempts,
            trace=_trace(action),
            external_ref=external_ref,
            error=error,
        )
        return self._record(self.executed_topic, action, record)

    def dead_letter(self, action: ClaimedAction, kind: str, reason: str) -> OutboxRecord:
        """An `aios.deadletter` record carrying the decision as read, so an operator can replay it."""
        source = action.source
        read = Message(
            topic=source.topic, partition=source.partition, offset=source.offset, key=source.key, value=source.value
        )
        record = dead_letter_record(
            read,
            service=self.service,
            kind=kind,
            reason=reason,
            attempts=action.attempts,
            trace=_trace(action),
            decoded={"event_id": action.event_id, "tenant_id": action.tenant_id},
        )
        return self._record(self.deadletter_topic, action, record)

    def _record(self, topic: str, action: ClaimedAction, record: ActionExecuted | DeadLetter) -> OutboxRecord:
        headers = {key: str(action.trace[key]) for key in (TRACEPARENT, TRACESTATE) if action.trace.get(key)}
        return OutboxRecord(
            topic, record_key(action.tenant_id, action.event_id), self.codecs.encode(topic, record.to_avro()), headers
        )


def _trace(action: ClaimedAction) -> TraceContext:
    """The `trace` field of a record about `action`: the trace context of the decision it came from."""
    return TraceContext(traceparent=action.trace.get(TRACEPARENT) or "", tracestate=action.trace.get(TRACESTATE))
