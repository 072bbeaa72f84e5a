"""The Grafana dashboards, written as JSON into `infra/grafana/dashboards/` (`python -m aios.observability.dashboards`).

Generated so that every panel is built the same way: a Prometheus datasource chosen by the
`datasource` variable, PromQL over the metrics of `aios.observability.metrics`, units set.
A unit test fails when the committed JSON differs from what this module writes; an
integration test runs every panel's query against a Prometheus scraping real services.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aios.paths import infra_dir

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
RATE = "$__rate_interval"
WIDTH = 24


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""
    heatmap: bool = False
    exemplars: bool = False
    """Show the series' exemplars (trace ids of observations) as points on the panel."""


@dataclass(frozen=True)
class Panel:
    title: str
    queries: Sequence[Query]
    unit: str = "short"
    description: str = ""
    kind: str = "timeseries"
    width: int = 12
    height: int = 8
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Variable:
    name: str
    label: str
    query: str
    """`label_values(metric, label)`."""


@dataclass(frozen=True)
class Dashboard:
    uid: str
    title: str
    description: str
    panels: Sequence[Panel]
    variables: Sequence[Variable] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "uid": self.uid,
            "title": self.title,
            "description": self.description,
            "tags": ["aios"],
            "timezone": "browser",
            "editable": True,
            "schemaVersion": 39,
            "version": 1,
            "refresh": "10s",
            "time": {"from": "now-1h", "to": "now"},
            "templating": {"list": [_datasource_variable(), *(_query_variable(v) for v in self.variables)]},
            "annotations": {"list": []},
            "panels": _layout(self.panels),
        }


def _datasource_variable() -> dict[str, Any]:
    return {
        "name": "datasource",
        "label": "Prometheus",
        "type": "datasource",
        "query": "prometheus",
        "current": {"text": "Prometheus", "value": "prometheus"},
        "hide": 0,
    }


def _query_variable(variable: Variable) -> dict[str, Any]:
    return {
        "name": variable.name,
        "label": variable.label,
        "type": "query",
        "datasource": DATASOURCE,
        "query": {"query": variable.query, "refId": variable.name},
        "definition": variable.query,
        "refresh": 2,
        "includeAll": True,
        "allValue": ".*",
        "multi": True,
        "current": {"text": "All", "value": "$__all"},
        "sort": 1,
        "hide": 0,
    }


def _layout(panels: Sequence[Panel]) -> list[dict[str, Any]]:
    """Panels left to right, wrapping at the dashboard's width."""
    laid: list[dict[str, Any]] = []
    x = y = row_height = 0
    for number, panel in enumerate(panels, start=1):
        if x + panel.width > WIDTH:
            x, y, row_height = 0, y + row_height, 0
        laid.append(_panel(number, panel, {"x": x, "y": y, "w": panel.width, "h": panel.height}))
        x += panel.width
        row_height = max(row_height, panel.height)
    return laid


def _panel(number: int, panel: Panel, grid: dict[str, int]) -> dict[str, Any]:
    targets = []
    for ref, query in zip("ABCDEFGH", panel.queries, strict=False):
        target: dict[str, Any] = {"refId": ref, "datasource": DATASOURCE, "expr": query.expr, "range": True}
        if query.legend:
            target["legendFormat"] = query.legend
        if query.heatmap:
            target["format"] = "heatmap"
        if query.exemplars:
            target["exemplar"] = True
        targets.append(target)
    defaults: dict[str, Any] = {"unit": panel.unit}
    if panel.kind == "timeseries":
        defaults["custom"] = {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 10, "showPoints": "never"}
    return {
        "id": number,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": DATASOURCE,
        "gridPos": grid,
        "targets": targets,
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": panel.options or _default_options(panel.kind),
    }


def _default_options(kind: str) -> dict[str, Any]:
    if kind == "stat":
        return {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}, "colorMode": "value"}
    if kind == "heatmap":
        return {"calculate": False, "yAxis": {"unit": "short"}, "cellGap": 1}
    return {"legend": {"displayMode": "list", "placement": "bottom"}, "tooltip": {"mode": "multi"}}


def rate(metric: str, selector: str = "") -> str:
    matchers = f"{{{selector}}}" if selector else ""
    return f"rate({metric}{matchers}[{RATE}])"


def summed(metric: str, by: str = "", selector: str = "") -> str:
    """The per-second rate of a counter, summed (per `by`)."""
    return (f"sum by ({by}) " if by else "sum ") + f"({rate(metric, selector)})"


def per(numerator: str, denominator: str, by: str, selector: str = "") -> str:
    """Rate of one counter per unit of another (seconds per event, mean of a histogram)."""
    return f"{summed(numerator, by, selector)} / {summed(denominator, by, selector)}"


def quantile(q: float, histogram: str, by: str, selector: str = "") -> str:
    return f"histogram_quantile({q}, sum by ({by}, le) ({rate(histogram + '_bucket', selector)}))"


def quantiles(
    histogram: str, by: str, selector: str = "", qs: Sequence[float] = (0.5, 0.95, 0.99), exemplars: bool = False
) -> list[Query]:
    legend = " ".join(f"{{{{{label.strip()}}}}}" for label in by.split(","))
    return [Query(quantile(q, histogram, by, selector), f"p{round(q * 100)} {legend}", exemplars=exemplars) for q in qs]


def or_zero(expr: str) -> str:
    """`expr`, or 0 while it has no series (no review item yet): the panel says 0, not "No data"."""
    return f"{expr} or on() vector(0)"


def share(numerator: str, denominator: str, by: str) -> str:
    """numerator / denominator per `by`, 0 (not "no data") where the numerator has no series yet."""
    return f"(sum by ({by}) ({numerator}) or sum by ({by}) ({denominator}) * 0) / sum by ({by}) ({denominator})"


OVERVIEW = Dashboard(
    uid="aios-overview",
    title="AIOS / Overview",
    description="Throughput per stage, end-to-end latency, errors and consumer lag.",
    variables=[Variable("group", "Consumer group", "label_values(aios_kafka_consumer_group_lag, group)")],
    panels=[
        Panel(
            "Throughput per stage",
            [Query(summed("aios_records_in_total", "service"), "{{service}}")],
            unit="reqps",
            description="Records each service consumed per second.",
        ),
        Panel(
            "Records produced per topic",
            [Query(summed("aios_records_out_total", "service, topic"), "{{service}} → {{topic}}")],
            unit="reqps",
            description="Records a service produced and the broker acknowledged, per second.",
        ),
        Panel(
            "End-to-end latency per stage",
            quantiles("aios_end_to_end_seconds", "service", exemplars=True),
            unit="s",
            description="Time from an event's occurred_at to each stage handling it. After a review this includes "
            "the human's time. Points are exemplars: one event's observation, with its trace id (Jaeger).",
            width=24,
        ),
        Panel(
            "Dead letters",
            [Query(summed("aios_dead_letters_total", "service, error_kind"), "{{service}} {{error_kind}}")],
            unit="reqps",
            description="Records sent to aios.deadletter per second, by service and why.",
        ),
        Panel(
            "HTTP requests by status",
            [Query(summed("aios_http_requests_total", "service, code"), "{{service}} {{code}}")],
            unit="reqps",
        ),
        Panel(
            "HTTP 5xx share",
            [
                Query(
                    share(rate("aios_http_requests_total", 'code=~"5.."'), rate("aios_http_requests_total"), "service"),
                    "{{service}}",
                )
            ],
            unit="percentunit",
        ),
        Panel(
            "Share of records dead-lettered",
            [Query(share(rate("aios_dead_letters_total"), rate("aios_records_in_total"), "service"), "{{service}}")],
            unit="percentunit",
        ),
        Panel(
            "Consumer lag (broker)",
            [
                Query(
                    'sum by (group, topic) (aios_kafka_consumer_group_lag{group=~"$group"})',
                    "{{group}} {{topic}}",
                )
            ],
            description="Records not yet committed by each group: the broker's high watermark less the group's "
            "committed offset (lag-exporter).",
        ),
        Panel(
            "Consumer delay p99",
            quantiles("aios_consume_delay_seconds", "service", qs=(0.99,), exemplars=True),
            unit="s",
            description="Time from a record's Kafka timestamp to its handler starting. Points are exemplars "
            "(trace ids).",
        ),
        Panel(
            "Handler time p99",
            quantiles("aios_handler_seconds", "service", qs=(0.99,)),
            unit="s",
            description="Time a handler took for one batch.",
        ),
    ],
)

INFERENCE = Dashboard(
    uid="aios-inference",
    title="AIOS / Inference",
    description="Batching, throughput and latency per model version, canary against production.",
    variables=[Variable("model", "Model", "label_values(aios_classified_total, model)")],
    panels=[
        Panel(
            "Consumer batch size",
            [Query(f'sum by (le) (increase(aios_batch_size_bucket{{service="classify"}}[{RATE}]))', heatmap=True)],
            kind="heatmap",
            description="Records per batch the classify worker's loop handed to the model (distribution).",
        ),
        Panel(
            "Model batch size per version",
            quantiles("aios_inference_batch_size", "model, version", 'model=~"$model"', qs=(0.5, 0.95)),
            description="Texts per backend call.",
        ),
        Panel(
            "Batch wait",
            quantiles("aios_batch_wait_seconds", "service", qs=(0.5, 0.95)),
            unit="s",
            description="Time the loop spent gathering a batch (bounded by AIOS_LOOP_MAX_WAIT_MS).",
        ),
        Panel(
            "Classified per version",
            [
                Query(
                    summed("aios_classified_total", "model, version, alias", 'model=~"$model"'),
                    "{{model}}:{{version}} {{alias}}",
                )
            ],
            unit="reqps",
        ),
        Panel(
            "Inference latency per version",
            quantiles("aios_inference_seconds", "model, version", 'model=~"$model"', qs=(0.5, 0.99)),
            unit="s",
            description="One batched backend call (tokenize, forward, decide).",
        ),
        Panel(
            "Inference seconds per event",
            [
                Query(
                    per(
                        "aios_inference_tenant_seconds_total",
                        "aios_inference_events_total",
                        "model, version",
                        'model=~"$model"',
                    ),
                    "{{model}}:{{version}}",
                )
            ],
            unit="s",
        ),
        Panel(
            "Mean confidence: canary vs production",
            [
                Query(
                    per(
                        "aios_prediction_confidence_sum",
                        "aios_prediction_confidence_count",
                        "model, version, alias",
                        'model=~"$model"',
                    ),
                    "{{alias}} {{model}}:{{version}}",
                )
            ],
            unit="percentunit",
            description="Calibrated confidence of each alias's predictions (shadow included).",
        ),
        Panel(
            "Median confidence: canary vs production",
            quantiles("aios_prediction_confidence", "alias, model, version", 'model=~"$model"', qs=(0.5,)),
            unit="percentunit",
        ),
        Panel(
            "Out-of-scope share per version",
            [
                Query(
                    share(
                        rate("aios_classified_total", 'oos="true", model=~"$model"'),
                        rate("aios_classified_total", 'model=~"$model"'),
                        "model, version",
                    ),
                    "{{model}}:{{version}}",
                )
            ],
            unit="percentunit",
        ),
        Panel(
            "Retrieve-generate stage time p95",
            quantiles("aios_retrieve_generate_seconds", "stage", qs=(0.95,)),
            unit="s",
        ),
        Panel(
            "Drafts by outcome",
            [Query(summed("aios_drafts_total", "generator, outcome"), "{{generator}} {{outcome}}")],
            unit="reqps",
        ),
        Panel(
            "Served alias revision",
            [Query("max by (service) (aios_model_alias_revision)", "{{service}}")],
            kind="stat",
            description="The registry alias revision the classify workers route with (all equal once promoted).",
        ),
    ],
)

REVIEW = Dashboard(
    uid="aios-review",
    title="AIOS / Human review",
    description="The review queue: depth, age, SLA and outcomes.",
    variables=[Variable("tenant", "Tenant", "label_values(aios_review_open_items, tenant)")],
    panels=[
        Panel(
            "Queue depth",
            [Query(or_zero('sum by (tenant) (aios_review_open_items{tenant=~"$tenant"})'), "{{tenant}}")],
            description="Review items waiting for a verdict.",
        ),
        Panel(
            "Past their SLA",
            [Query(or_zero('sum by (tenant) (aios_review_overdue_items{tenant=~"$tenant"})'), "{{tenant}}")],
            description="Items waiting beyond their SLA deadline (AiosReviewSlaBreached fires after 5 minutes).",
        ),
        Panel(
            "Oldest waiting item",
            [Query(or_zero('max by (tenant) (aios_review_oldest_wait_seconds{tenant=~"$tenant"})'), "{{tenant}}")],
            unit="s",
            description="How long each tenant's oldest open item has waited: the age of the queue.",
        ),
        Panel(
            "Age at verdict",
            [
                Query(or_zero(f"({query.expr}) >= 0"), query.legend)
                for query in quantiles("aios_review_time_to_complete_seconds", "service", qs=(0.5, 0.95))
            ],
            unit="s",
            description="Time from a review request to its verdict; 0 while no verdict was given in the window.",
        ),
        Panel(
            "Requests and verdicts",
            [
                Query(summed("aios_review_requests_stored_total"), "requested"),
                Query(summed("aios_review_completed_total"), "completed"),
            ],
            unit="reqps",
        ),
        Panel(
            "Outcomes",
            [Query(summed("aios_review_completed_total", "verdict"), "{{verdict}}")],
            unit="reqps",
            description="Reviewers' verdicts.",
        ),
        Panel(
            "Decisions after review",
            [
                Query(
                    summed("aios_decisions_total", "outcome", 'outcome=~"APPROVED|REJECTED"'),
                    "{{outcome}}",
                )
            ],
            unit="reqps",
        ),
        Panel(
            "Verdicts not yet in Kafka",
            [Query("sum (aios_review_outbox_pending)", "outbox")],
            kind="stat",
        ),
    ],
)

GOVERNANCE = Dashboard(
    uid="aios-governance",
    title="AIOS / Governance",
    description="How events are decided, model drift, dead letters, cost per tenant and the audit trail.",
    variables=[Variable("tenant", "Tenant", "label_values(aios_inference_tenant_seconds_total, tenant)")],
    panels=[
        Panel(
            "Decisions by policy: auto, review, reject",
            [
                Query(
                    summed("aios_decisions_total", "outcome", 'outcome=~"AUTO|REVIEW|REJECT"'),
                    "{{outcome}}",
                )
            ],
            unit="reqps",
        ),
        Panel(
            "Automation rate",
            [
                Query(
                    share(
                        rate("aios_decisions_total", 'outcome="AUTO"'),
                        rate("aios_decisions_total", 'outcome=~"AUTO|REVIEW|REJECT"'),
                        "service",
                    ),
                    "automated",
                )
            ],
            unit="percentunit",
            kind="stat",
        ),
        Panel(
            "Prediction drift (PSI)",
            [Query("max by (model, version, signal) (aios_model_drift_psi)", "{{model}}:{{version}} {{signal}}")],
            description="Recent predictions against the version's training-time reference, noise-corrected. "
            "0.1: look; 0.25: AiosPredictionDrift.",
        ),
        Panel(
            "Drift window",
            [Query("sum by (model, version) (aios_model_drift_window_events)", "{{model}}:{{version}}")],
            description="Recent predictions the drift index is computed on.",
        ),
        Panel(
            "Dead letters by reason",
            [Query(summed("aios_dead_letters_total", "service, error_kind"), "{{service}} {{error_kind}}")],
            unit="reqps",
        ),
        Panel(
            "Model seconds per second, by tenant",
            [
                Query(
                    summed("aios_inference_tenant_seconds_total", "tenant", 'tenant=~"$tenant"'),
                    "{{tenant}}",
                )
            ],
            unit="s",
            description="Inference time spent on each tenant's events (cost signal).",
        ),
        Panel(
            "Model seconds per event, by tenant",
            [
                Query(
                    per(
                        "aios_inference_tenant_seconds_total",
                        "aios_inference_events_total",
                        "tenant",
                        'tenant=~"$tenant"',
                    ),
                    "{{tenant}}",
                )
            ],
            unit="s",
        ),
        Panel(
            "Actions by connector and status",
            [Query(summed("aios_act_actions_total", "connector, status"), "{{connector}} {{status}}")],
            unit="reqps",
        ),
        Panel(
            "Audit rows appended",
            [Query(summed("aios_audit_rows_total"), "rows")],
            unit="reqps",
        ),
        Panel(
            "Audit lag",
            quantiles("aios_consume_delay_seconds", "service", 'service="audit"', qs=(0.99,)),
            unit="s",
            description="Time from a record reaching any aios topic to its audit row being written (p99).",
        ),
        Panel(
            "Audit backlog",
            [Query('sum by (topic) (aios_consumer_lag{service="audit"})', "{{topic}}")],
            description="Records of each topic the audit service has yet to record, as its consumer reports them.",
        ),
        Panel(
            "Personal data redacted",
            [Query(summed("aios_pii_redacted_total", "service, kind"), "{{service}} {{kind}}")],
            unit="reqps",
        ),
    ],
)

DOCUMENT_TENANT = 'tenant=~"$tenant"'
POLICY_OUTCOMES = 'outcome=~"AUTO|REVIEW|REJECT"'

DOCUMENTS = Dashboard(
    uid="aios-documents",
    title="AIOS / Documents",
    description="Invoices and claims: touchless share, why documents go to review, reviewers' corrections, payouts.",
    variables=[Variable("tenant", "Tenant", "label_values(aios_document_decisions_total, tenant)")],
    panels=[
        Panel(
            "Touchless share per document type",
            [
                Query(
                    share(
                        rate("aios_document_decisions_total", f'outcome=~"AUTO|REJECT", {DOCUMENT_TENANT}'),
                        rate("aios_document_decisions_total", f"{POLICY_OUTCOMES}, {DOCUMENT_TENANT}"),
                        "tenant, document_type",
                    ),
                    "{{tenant}} {{document_type}}",
                )
            ],
            unit="percentunit",
            description="Documents decided by policy without a person (approved or rejected automatically), "
            "of all documents policy decided.",
        ),
        Panel(
            "Documents decided",
            [
                Query(
                    summed("aios_document_decisions_total", "document_type, outcome", DOCUMENT_TENANT),
                    "{{document_type}} {{outcome}}",
                )
            ],
            unit="reqps",
            description="By policy (AUTO, REVIEW, REJECT) and after review (APPROVED, REJECTED).",
        ),
        Panel(
            "Sent to review, by rule",
            [
                Query(
                    summed(
                        "aios_document_decisions_total",
                        "tenant, document_type, rule",
                        f'outcome="REVIEW", {DOCUMENT_TENANT}',
                    ),
                    "{{tenant}} {{document_type}} {{rule}}",
                )
            ],
            unit="reqps",
            description="Why a person looks: the policy rule that sent each document to review.",
        ),
        Panel(
            "Corrections per field",
            [
                Query(
                    f"sum by (document_type, field) (increase(aios_review_field_corrections_total{{{DOCUMENT_TENANT}}}"
                    f"[{RATE}]))",
                    "{{document_type}} {{field}}",
                )
            ],
            description="Fields reviewers changed before approving (line_items: the line items): where the "
            "extractor is wrong most.",
        ),
        Panel(
            "Payouts by outcome",
            [
                Query(
                    summed("aios_payouts_total", "document_type, outcome", DOCUMENT_TENANT),
                    "{{document_type}} {{outcome}}",
                )
            ],
            unit="reqps",
            description="Payouts made; refused (the invoice or claim was paid already); failed; compensated "
            "(cancelled by a saga); compensation_failed.",
        ),
        Panel(
            "Payouts made, total",
            [Query(f'sum by (document_type) (aios_payouts_total{{outcome="made", {DOCUMENT_TENANT}}})')],
            kind="stat",
            description="Since the act services started.",
        ),
        Panel(
            "Upload to decision",
            quantiles("aios_document_decision_seconds", "document_type, stage", qs=(0.5, 0.95, 0.99)),
            unit="s",
            description="From a document's upload to its decision by policy; after review, the person's time included.",
        ),
        Panel(
            "Upload to payout",
            quantiles("aios_payout_seconds", "document_type", qs=(0.5, 0.95)),
            unit="s",
        ),
        Panel(
            "Pages read per second",
            [Query(summed("aios_extract_pages_total", "document_type, read"), "{{document_type}} {{read}}")],
            unit="reqps",
            description="Pages extract read from a text layer or by OCR.",
        ),
    ],
)

DASHBOARDS = (OVERVIEW, INFERENCE, REVIEW, GOVERNANCE, DOCUMENTS)


def dashboards_dir() -> Path:
    return infra_dir() / "grafana" / "dashboards"


def rendered() -> dict[str, str]:
    """File name → JSON text of every dashboard."""
    return {f"{d.uid.removeprefix('aios-')}.json": json.dumps(d.to_json(), indent=2) + "\n" for d in DASHBOARDS}


def write(folder: Path | None = None) -> list[Path]:
    folder = folder or dashboards_dir()
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in rendered().items():
        (folder / name).write_text(text)
        written.append(folder / name)
    return written


if __name__ == "__main__":
    for path in write(Path(sys.argv[1]) if len(sys.argv) > 1 else None):
        print(path)
