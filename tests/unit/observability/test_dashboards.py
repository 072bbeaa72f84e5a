"""The committed Grafana dashboards: generated, provisioned, a datasource variable and declared metrics everywhere."""

from __future__ import annotations

import json
import re

import yaml
from prometheus_client import REGISTRY

import aios.observability.metrics  # noqa: F401  (declares every metric in the default registry)
from aios.observability.dashboards import DASHBOARDS, dashboards_dir, rendered
from aios.paths import infra_dir, project_root


def committed() -> dict[str, dict]:
    return {path.name: json.loads(path.read_text()) for path in dashboards_dir().glob("*.json")}


def test_the_committed_json_is_what_the_generator_writes() -> None:
    """`python -m aios.observability.dashboards` regenerates them."""
    assert {path.name: path.read_text() for path in dashboards_dir().glob("*.json")} == rendered()


def test_the_five_dashboards_exist() -> None:
    titles = {d["title"] for d in committed().values()}
    assert titles == {
        "AIOS / Overview",
        "AIOS / Inference",
        "AIOS / Human review",
        "AIOS / Governance",
        "AIOS / Documents",
    }


def test_the_documents_dashboard_shows_touchless_review_reasons_corrections_and_payouts_per_type() -> None:
    """Each fact of operating documents has its panel, split by document type (and tenant through the variable)."""
    panels = {p["title"]: [t["expr"] for t in p["targets"]] for p in committed()["documents.json"]["panels"]}
    reads = {
        "Touchless share per document type": "aios_document_decisions_total",
        "Sent to review, by rule": "aios_document_decisions_total",
        "Corrections per field": "aios_review_field_corrections_total",
        "Payouts by outcome": "aios_payouts_total",
        "Upload to decision": "aios_document_decision_seconds_bucket",
        "Upload to payout": "aios_payout_seconds_bucket",
        "Pages read per second": "aios_extract_pages_total",
    }
    for title, metric in reads.items():
        (expr, *_) = panels[title]
        assert metric in expr and "document_type" in expr, title
        assert 'tenant=~"$tenant"' in expr or metric.endswith("_bucket") or "extract" in metric, title
    assert "rule" in panels["Sent to review, by rule"][0] and "field" in panels["Corrections per field"][0]


def test_every_panel_queries_prometheus_through_the_datasource_variable() -> None:
    for dashboard in committed().values():
        variables = {v["name"]: v for v in dashboard["templating"]["list"]}
        assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
        for variable in variables.values():
            if variable["type"] == "query":
                assert variable["datasource"]["uid"] == "${datasource}"
        for panel in dashboard["panels"]:
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
            assert panel["targets"], panel["title"]
            for target in panel["targets"]:
                assert target["datasource"]["uid"] == "${datasource}" and target["expr"].strip(), panel["title"]


def test_every_metric_a_panel_reads_is_declared() -> None:
    """A typo in a metric name fails here, before any Prometheus is asked."""
    declared = set(REGISTRY._names_to_collectors)  # with the _total, _bucket, _sum and _count series names
    for dashboard in DASHBOARDS:
        for panel in dashboard.panels:
            for query in panel.queries:
                unknown = set(re.findall(r"\baios_[a-z0-9_]+", query.expr)) - declared
                assert not unknown, f"{dashboard.title} / {panel.title}: {unknown} not declared"


def test_grafana_provisions_the_datasource_and_the_dashboards() -> None:
    provisioning = infra_dir() / "grafana" / "provisioning"
    datasource, jaeger = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())["datasources"]
    assert datasource["type"] == "prometheus" and datasource["uid"] == "prometheus"
    # An exemplar's trace id opens the trace in Jaeger.
    assert jaeger["type"] == "jaeger" and jaeger["url"] == "${AIOS_JAEGER_URL}"
    assert datasource["jsonData"]["exemplarTraceIdDestinations"] == [
        {"name": "trace_id", "datasourceUid": jaeger["uid"]}
    ]
    (provider,) = yaml.safe_load((provisioning / "dashboards" / "aios.yml").read_text())["providers"]
    compose = yaml.safe_load((project_root() / "docker-compose.yml").read_text())["services"]
    grafana = compose["grafana"]
    assert not grafana["image"].endswith(":latest") and ":" in grafana["image"]
    assert f"./infra/grafana/dashboards:{provider['options']['path']}:ro" in grafana["volumes"]
    assert "./infra/grafana/provisioning:/etc/grafana/provisioning:ro" in grafana["volumes"]
    assert "./infra/prometheus/rules:/etc/prometheus/rules:ro" in compose["prometheus"]["volumes"]
    assert compose["grafana"]["environment"]["AIOS_JAEGER_URL"] == "http://jaeger:26686"
    assert "--enable-feature=exemplar-storage" in compose["prometheus"]["command"]


def test_the_overview_latency_panels_show_exemplars() -> None:
    """The panels of per-record latency (each observation is one event's, with its trace id)."""
    panels = {p["title"]: p for p in committed()["overview.json"]["panels"]}
    for title in ("End-to-end latency per stage", "Consumer delay p99"):
        assert [t.get("exemplar") for t in panels[title]["targets"]] == [True] * len(panels[title]["targets"])
    assert not any(t.get("exemplar") for t in panels["Handler time p99"]["targets"])  # a batch's: no one trace
