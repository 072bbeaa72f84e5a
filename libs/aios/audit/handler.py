"""The consumer-loop handler of audit: one batch of records from any topic → one append transaction."""

from __future__ import annotations

from collections.abc import Mapping

from aios.audit.records import entry_for
from aios.audit.store import AuditStore
from aios.db.pool import UNAVAILABLE_ERRORS
from aios.kafka.errors import TransientError
from aios.kafka.records import InputRecord, OutputRecord
from aios.observability import metrics
from aios.runtime.background import BackgroundLoop


class AuditHandler:
    def __init__(
        self, runtime: BackgroundLoop, store: AuditStore, carries: Mapping[str, str], service: str = "audit"
    ) -> None:
        self.runtime = runtime
        self.store = store
        self.carries = dict(carries)
        self.service = service

    def __call__(self, records: list[InputRecord]) -> list[OutputRecord]:
        entries = [entry_for(record, self.carries.get(record.topic, record.topic)) for record in records]
        try:
            with metrics.AUDIT_APPEND_SECONDS.labels(self.service).time():
                result = self.runtime.run(self.store.append(entries))
        except UNAVAILABLE_ERRORS as exc:
            raise TransientError(f"audit trail unavailable: {exc}") from exc
        metrics.AUDIT_ROWS.labels(self.service).inc(result.appended)
        metrics.AUDIT_DUPLICATES.labels(self.service).inc(result.duplicates)
        return []
