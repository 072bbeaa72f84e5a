"""Prometheus metrics of the shared consumer loop; every service exposes them on its metrics port.

Names follow Prometheus conventions (`_total` counters, `_seconds` histograms) and every series
carries the `service` label, so one Grafana panel covers all services.
"""

from __future__ import annotations

import itertools
from collections import Counter as Tally
from collections.abc import Iterable, Mapping
from contextlib import suppress
from datetime import datetime

from prometheus_client import Counter, Gauge, Histogram, start_http_server
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

RECORDS_IN = Counter("aios_records_in_total", "Records consumed by a service.", ["service", "topic"])
RECORDS_OUT = Counter(
    "aios_records_out_total",
    "Records a service produced and the broker acknowledged.",
    ["service", "topic"],
)
BATCH_SIZE = Histogram(
    "aios_batch_size",
    "Records per batch handed to a handler.",
    ["service"],
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000),
)
HANDLER_SECONDS = Histogram(
    "aios_handler_seconds",
    "Time a handler took for one batch (including retries).",
    ["service"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
DEAD_LETTERS = Counter(
    "aios_dead_letters_total",
    "Records sent to aios.deadletter, by why.",
    ["service", "topic", "error_kind"],
)
CONSUMER_LAG = Gauge(
    "aios_consumer_lag",
    "Records behind the partition's high watermark.",
    ["service", "topic", "partition"],
)
HANDLER_RETRIES = Counter("aios_handler_retries_total", "Handler calls repeated after a failure.", ["service"])

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14400, 86400)
"""Seconds from an event to a stage: milliseconds when it flows, hours when a human reviewed it."""
END_TO_END_SECONDS = Histogram(
    "aios_end_to_end_seconds",
    "Time from an event's occurred_at to this stage handling it (the event's age at each stage).",
    ["service", "topic"],
    buckets=LATENCY_BUCKETS,
)
CONSUME_DELAY_SECONDS = Histogram(
    "aios_consume_delay_seconds",
    "Time from a record's Kafka timestamp to its handler starting: how far behind in time a consumer is.",
    ["service", "topic"],
    buckets=LATENCY_BUCKETS,
)
BATCH_WAIT_SECONDS = Histogram(
    "aios_batch_wait_seconds",
    "Time the loop spent gathering a batch (up to max_batch records or max_wait_ms).",
    ["service"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2, 5),
)


def observe_record_times(
    service: str,
    topic: str,
    occurred_at: object,
    timestamp_ms: int | None,
    now: float,
    trace: Mapping[str, str] | None = None,
) -> None:
    """The end-to-end latency and consume delay of one record handled at `now` (Unix seconds).

    With the record's trace context, each observation carries its trace id as an exemplar
    (OpenMetrics), so a point on a latency panel leads to the trace of an event that took that long.
    """
    exemplar = _trace_exemplar(trace)
    if isinstance(occurred_at, datetime):
        END_TO_END_SECONDS.labels(service, topic).observe(max(0.0, now - occurred_at.timestamp()), exemplar)
    if timestamp_ms is not None and timestamp_ms > 0:
        CONSUME_DELAY_SECONDS.labels(service, topic).observe(max(0.0, now - timestamp_ms / 1000), exemplar)


def _trace_exemplar(trace: Mapping[str, str] | None) -> dict[str, str] | None:
    """`{"trace_id": ...}` of a W3C traceparent (`version-traceid-spanid-flags`), None without a valid one."""
    parts = (trace or {}).get("traceparent", "").split("-")
    if len(parts) != 4 or len(parts[1]) != 32 or parts[1] == "0" * 32:
        return None
    return {"trace_id": parts[1]}


GROUP_LAG = Gauge(
    "aios_kafka_consumer_group_lag",
    "Records of a partition a consumer group has not committed: the broker's high watermark less the group's offset.",
    ["group", "topic", "partition"],
)
GROUP_LAG_READ_SECONDS = Gauge(
    "aios_kafka_consumer_group_lag_read_seconds", "Time the last read of every group's offsets from the broker took."
)
GROUP_LAG_UPDATED = Gauge(
    "aios_kafka_consumer_group_lag_updated_timestamp_seconds", "When consumer group lag was last read from the broker."
)


def set_group_lag(lag: dict[tuple[str, str, int], int], read_seconds: float) -> None:
    """Replace every group's lag with `lag`: partitions no longer reported (group or topic gone) disappear."""
    current = {(group, topic, str(partition)): value for (group, topic, partition), value in lag.items()}
    for labels in [tuple(s.labels.values()) for m in GROUP_LAG.collect() for s in m.samples]:
        if labels not in current:
            with suppress(KeyError):
                GROUP_LAG.remove(*labels)
    for labels, value in current.items():
        GROUP_LAG.labels(*labels).set(value)
    GROUP_LAG_READ_SECONDS.set(read_seconds)
    GROUP_LAG_UPDATED.set_to_current_time()


class MetricsSettings(BaseSettings):
    """Where the metrics endpoint of the Kafka workers binds, read from `AIOS_METRICS_*` variables."""

    model_config = SettingsConfigDict(env_prefix="AIOS_METRICS_", extra="ignore", frozen=True)

    host: str = Field(
        default="127.0.0.1",
        description="Address /metrics binds; 0.0.0.0 in a container, so Prometheus in another one can scrape it.",
    )


def serve_metrics(port: int, host: str | None = None) -> None:
    """Expose /metrics in a background thread (port 0 disables it, as in tests); `host` defaults to the setting."""
    if port:
        start_http_server(port, addr=host or MetricsSettings().host)


HTTP_REQUESTS = Counter(
    "aios_http_requests_total",
    "HTTP requests to a service (ingest, review, audit), by route template and status code.",
    ["service", "route", "code"],
)
HTTP_SECONDS = Histogram(
    "aios_http_request_seconds",
    "Time to answer an HTTP request (an event accepted by ingest includes the broker's ack).",
    ["service", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)

CLASSIFIED = Counter(
    "aios_classified_total",
    "Events classified, by deciding model name, version, alias and whether it was out of scope.",
    ["service", "model", "version", "alias", "oos"],
)
INFERENCE_SECONDS = Histogram(
    "aios_inference_seconds",
    "Time of one batched backend call for one model version (tokenize, forward, decide).",
    ["service", "model", "version", "backend"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
INFERENCE_BATCH_SIZE = Histogram(
    "aios_inference_batch_size",
    "Texts in one backend call for one model version.",
    ["service", "model", "version"],
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024),
)
PREDICTION_CONFIDENCE = Histogram(
    "aios_prediction_confidence",
    "Calibrated confidence of predictions, by model version and alias (production, canary, shadow).",
    ["service", "model", "version", "alias"],
    buckets=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0),
)
INFERENCE_TENANT_SECONDS = Counter(
    "aios_inference_tenant_seconds_total",
    "Model time spent on a tenant's events (each backend call's time shared equally among its texts): the cost signal.",
    ["service", "tenant", "model", "version"],
)
INFERENCE_EVENTS = Counter(
    "aios_inference_events_total",
    "Texts a model version ran on, by tenant (shadow runs included): divides tenant seconds into seconds per event.",
    ["service", "tenant", "model", "version"],
)
MODEL_ARTIFACT_REFUSED = Counter(
    "aios_model_artifact_refused_total",
    "Loads refused because a model artifact's files do not match the SHA-256 recorded at registration.",
    ["model", "version"],
)
MODEL_REVISION = Gauge("aios_model_alias_revision", "Registry alias revision a worker serves.", ["service"])
DRIFT_PSI = Gauge(
    "aios_model_drift_psi",
    "Population stability index of a version's recent predictions against its training-time reference, "
    "less sampling noise; signal: labels or confidence.",
    ["service", "model", "version", "signal"],
)
DRIFT_WINDOW_EVENTS = Gauge(
    "aios_model_drift_window_events",
    "Recent predictions the drift index was computed on.",
    ["service", "model", "version"],
)


def record_inference(service: str, model: str, version: int, backend: str, seconds: float, tenants: list[str]) -> None:
    """One backend call over the texts of `tenants` (one entry per text): latency, batch size and cost."""
    labels = (service, model, str(version))
    INFERENCE_SECONDS.labels(*labels, backend).observe(seconds)
    INFERENCE_BATCH_SIZE.labels(*labels).observe(len(tenants))
    share = seconds / max(1, len(tenants))
    for tenant, count in Tally(tenants).items():
        INFERENCE_TENANT_SECONDS.labels(service, tenant, model, str(version)).inc(share * count)
        INFERENCE_EVENTS.labels(service, tenant, model, str(version)).inc(count)


def record_prediction(service: str, model: str, version: int, alias: str, confidence: float, oos: bool) -> None:
    """A prediction that decided an event (production, canary) or was only recorded (shadow)."""
    if alias != "shadow":
        CLASSIFIED.labels(service, model, str(version), alias, str(oos).lower()).inc()
    PREDICTION_CONFIDENCE.labels(service, model, str(version), alias).observe(confidence)


def set_drift(service: str, model: str, version: int, labels: float, confidence: float, events: int) -> None:
    DRIFT_PSI.labels(service, model, str(version), "labels").set(labels)
    DRIFT_PSI.labels(service, model, str(version), "confidence").set(confidence)
    DRIFT_WINDOW_EVENTS.labels(service, model, str(version)).set(events)


def forget_drift(service: str, model: str, version: int) -> None:
    """No current measurement for this version (too few recent predictions, or no longer served)."""
    for signal in ("labels", "confidence"):
        with suppress(KeyError):
            DRIFT_PSI.remove(service, model, str(version), signal)
    with suppress(KeyError):
        DRIFT_WINDOW_EVENTS.remove(service, model, str(version))


INFER_REFUSED = Counter(
    "aios_infer_refused_total",
    "Model endpoint work turned away by a full batch queue: requests answered 429 (overloaded), shadow runs"
    " skipped (shadow_skipped).",
    ["service", "reason"],
)


RETRIEVE_GENERATE_SECONDS = Histogram(
    "aios_retrieve_generate_seconds",
    "Time of one batch stage of retrieve-generate: embed (queries), retrieve (lexical, dense, fusion), generate.",
    ["service", "stage"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
DRAFTS = Counter(
    "aios_drafts_total",
    "Enriched events by outcome (drafted, or why not: policy, no_passages, no_answer) and generator.",
    ["service", "generator", "outcome"],
)
DRAFT_FALLBACKS = Counter(
    "aios_draft_fallbacks_total",
    "Generative drafts replaced by the extractive one, by chosen generator and reason (timeout, ungrounded...).",
    ["service", "generator", "reason"],
)
DRAFT_SENTENCES_DROPPED = Counter(
    "aios_draft_sentences_dropped_total",
    "Sentences of generated drafts the grounding guard dropped, by generator and reason.",
    ["service", "generator", "reason"],
)
PII_REDACTED = Counter(
    "aios_pii_redacted_total",
    "Personal data found and redacted, by kind (email, phone, card, iban).",
    ["service", "kind"],
)

ACT_ACTIONS = Counter(
    "aios_act_actions_total",
    "Action results recorded by act, by connector and status (succeeded, failed, compensated, skipped_duplicate).",
    ["service", "connector", "status"],
)
ACT_RETRIES = Counter(
    "aios_act_retries_total", "Failed attempts scheduled to run again later.", ["service", "connector"]
)
ACT_ATTEMPT_SECONDS = Histogram(
    "aios_act_attempt_seconds",
    "Time of one connector attempt, successful or not.",
    ["service", "connector"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
ACT_IN_FLIGHT = Gauge("aios_act_in_flight", "Actions an act instance is performing now.", ["service"])

AUDIT_ROWS = Counter("aios_audit_rows_total", "Records appended to the audit trail.", ["service"])
AUDIT_DUPLICATES = Counter(
    "aios_audit_duplicates_total", "Redelivered records recognised by their offset and not appended again.", ["service"]
)
AUDIT_APPEND_SECONDS = Histogram(
    "aios_audit_append_seconds",
    "Time to append one batch to the audit trail (one transaction).",
    ["service"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
AUDIT_PRUNED_ROWS = Counter("aios_audit_pruned_rows_total", "Audit rows removed by retention.", ["service"])

DECISIONS = Counter(
    "aios_decisions_total",
    "Events decided: AUTO, REJECT or REVIEW by policy, APPROVED or REJECTED after review.",
    ["service", "outcome"],
)
DECIDE_VERDICTS_IGNORED = Counter(
    "aios_decide_review_verdicts_ignored_total",
    "Review verdicts decide did not act on (a second, different verdict for a completed review).",
    ["service"],
)
DECIDE_PARTITION_STALLS = Counter(
    "aios_decide_partition_stalls_total",
    "Input partitions Faust stopped fetching with records waiting, resumed by decide's stall watch.",
    ["service", "topic"],
)
DECIDE_SKIPPED_RECORDS = Counter(
    "aios_decide_skipped_records_total",
    "Input records Faust skipped on a partition, read again after decide's offset check noticed the gap.",
    ["service", "topic"],
)
DECIDE_EVENTS_PER_MINUTE = Gauge(
    "aios_decide_events_per_minute",
    "A tenant's events in the current minute (decide's windowed table).",
    ["service", "tenant"],
)
DECIDE_LOW_CONFIDENCE_SHARE = Gauge(
    "aios_decide_low_confidence_share",
    "Share of a tenant's last 5 minutes of predictions below its policy's low-confidence bound.",
    ["service", "tenant"],
)

REVIEW_REQUESTS_STORED = Counter(
    "aios_review_requests_stored_total",
    "Review requests written to the review queue (redeliveries not counted).",
    ["service"],
)
REVIEW_OPEN_ITEMS = Gauge("aios_review_open_items", "Review items waiting for a verdict.", ["service", "tenant"])
REVIEW_OVERDUE_ITEMS = Gauge(
    "aios_review_overdue_items", "Review items waiting past their SLA deadline.", ["service", "tenant"]
)
REVIEW_OLDEST_WAIT_SECONDS = Gauge(
    "aios_review_oldest_wait_seconds", "How long a tenant's oldest open review item has waited.", ["service", "tenant"]
)
REVIEW_COMPLETED = Counter("aios_review_completed_total", "Reviews completed, by verdict.", ["service", "verdict"])
REVIEW_TIME_TO_COMPLETE_SECONDS = Histogram(
    "aios_review_time_to_complete_seconds",
    "Time from a review request to its verdict.",
    ["service"],
    buckets=(10, 60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 172800),
)
REVIEW_OUTBOX_PENDING = Gauge(
    "aios_review_outbox_pending", "Completed reviews not yet acknowledged by Kafka.", ["service"]
)
REVIEW_LOGINS = Counter(
    "aios_review_logins_total", "Reviewer sign-ins, by result (ok, refused, throttled).", ["service", "result"]
)
REVIEW_FIELD_CORRECTIONS = Counter(
    "aios_review_field_corrections_total",
    "Document fields reviewers changed before approving (line_items: the line items), by document type and field.",
    ["service", "tenant", "document_type", "field"],
)


# --- Zero, not nothing -----------------------------------------------------------------------------
# A counter is exported only once it has a label set. Until then a dashboard panel shows "No data", which
# an operator cannot tell from "nothing is scraped". Series whose label values are known up front are
# therefore declared at 0 when the service starts: no dead letter yet reads as 0 dead letters.

DECISION_OUTCOMES = ("AUTO", "REVIEW", "REJECT", "APPROVED", "REJECTED")
ACTION_STATUSES = ("succeeded", "failed", "compensated", "skipped_duplicate")
LOGIN_RESULTS = ("ok", "refused")


def start_at_zero(counter: Counter, service: str, *values: Iterable[str]) -> None:
    """Export `counter` at 0 for `service` and every combination of the known label `values`."""
    for combination in itertools.product(*(list(v) for v in values)):
        counter.labels(service, *combination)


ROLLOUT_STEP = Gauge(
    "aios_rollout_step",
    "Step (0-based) a running rollout of a model or tenant policy is on; absent when none runs.",
    ["kind", "name", "version"],
)
ROLLOUT_LAST_ROLLBACK = Gauge(
    "aios_rollout_last_rollback_timestamp_seconds",
    "When the latest rollout of a model or tenant policy was rolled back automatically (Unix seconds).",
    ["kind", "name"],
)


# --- Documents (invoices, claims) ------------------------------------------------------------------
# Labelled by tenant and document type (invoice, claim, other: the extractor's vocabulary); a review's
# reason is the rule that sent it, bounded by the tenant's policy; field names are the extractor's.

DOCUMENT_DECISIONS = Counter(
    "aios_document_decisions_total",
    "Document events decided: AUTO, REJECT or REVIEW by policy (touchless unless REVIEW), APPROVED or REJECTED"
    " after review; rule: the policy rule that decided (for REVIEW, why a person looks).",
    ["service", "tenant", "document_type", "outcome", "rule"],
)
DOCUMENT_DECISION_SECONDS = Histogram(
    "aios_document_decision_seconds",
    "Time from a document's upload to its decision by policy (stage policy) or after review (stage reviewed).",
    ["service", "document_type", "stage"],
    buckets=LATENCY_BUCKETS,
)
PAYOUTS = Counter(
    "aios_payouts_total",
    "Payment actions recorded by act, by what they pay (invoice, claim) and outcome: made, refused (paid already),"
    " failed, compensated (cancelled by a saga), compensation_failed.",
    ["service", "tenant", "document_type", "outcome"],
)
PAYOUT_SECONDS = Histogram(
    "aios_payout_seconds",
    "Time from a document's upload to its payout being made.",
    ["service", "document_type"],
    buckets=LATENCY_BUCKETS,
)
EXTRACT_PAGES = Counter(
    "aios_extract_pages_total",
    "Document pages extract read, by document type and how (text_layer or ocr).",
    ["service", "document_type", "read"],
)
