"""Prometheus metrics of the shared consumer loop; every service exposes them on its metrics port.

Names follow Prometheus conventions (`_total` counters, `_seconds` histograms) and every series
carries the `service` label, so one Grafana panel covers all services.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, start_http_server

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


def serve_metrics(port: int, host: str = "127.0.0.1") -> None:
    """Expose /metrics in a background thread (port 0 disables it, as in tests)."""
    if port:
        start_http_server(port, addr=host)


INGEST_REQUESTS = Counter(
    "aios_ingest_requests_total", "HTTP requests to ingest, by route and status code.", ["route", "code"]
)
INGEST_SECONDS = Histogram(
    "aios_ingest_request_seconds",
    "Time to answer an ingest request (an accepted event includes the broker's ack).",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)

CLASSIFIED = Counter(
    "aios_classified_total",
    "Events classified, by deciding model version, alias and whether it was out of scope.",
    ["service", "model", "alias", "oos"],
)
INFERENCE_SECONDS = Histogram(
    "aios_inference_seconds",
    "Time of one batched backend call (tokenize, forward, decide).",
    ["service", "backend"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
MODEL_REVISION = Gauge("aios_model_alias_revision", "Registry alias revision a worker serves.", ["service"])

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
PII_REDACTED = Counter(
    "aios_pii_redacted_total", "Personal data found and redacted, by kind (email, phone, card, iban).", ["service", "kind"]
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
