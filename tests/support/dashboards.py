"""The PromQL of every committed Grafana panel, as Grafana would send it."""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from aios.observability.dashboards import dashboards_dir

DOCUMENTS = "AIOS / Documents"
"""The dashboard of invoices and claims: its panels have data where documents flow."""
EVENTS = ("AIOS / Overview", "AIOS / Inference", "AIOS / Human review", "AIOS / Governance")
"""The dashboards every pipeline fills, documents or not."""

RANGE = "5m"
"""What `$__rate_interval` becomes: a window that holds a test's events."""


@dataclass(frozen=True)
class PanelQuery:
    dashboard: str
    panel: str
    expr: str

    def resolved(self) -> str:
        """The expression with every template variable at All."""
        expr = self.expr.replace("$__rate_interval", RANGE)
        for variable in ("group", "model", "tenant"):
            expr = expr.replace(f"${{{variable}}}", ".*").replace(f"${variable}", ".*")
        assert "$" not in expr, f"unresolved variable in {expr}"
        return expr

    def metrics(self) -> set[str]:
        """Series names the expression reads."""
        return set(re.findall(r"\baios_[a-z0-9_]+", self.expr))


def panel_queries(dashboards: Collection[str] = EVENTS) -> list[PanelQuery]:
    """The queries of the dashboards titled `dashboards`."""
    queries = []
    for path in sorted(dashboards_dir().glob("*.json")):
        dashboard = json.loads(path.read_text())
        if dashboard["title"] not in dashboards:
            continue
        for panel in dashboard["panels"]:
            for target in panel["targets"]:
                queries.append(PanelQuery(dashboard["title"], panel["title"], target["expr"]))
    return queries


def problem(answer: dict[str, Any]) -> str | None:
    """Why a query's answer would leave its panel empty, or None when it has a real value."""
    if answer.get("status") != "success":
        return f"error: {answer.get('errorType')}: {answer.get('error')}"
    series = answer["data"]["result"]
    if not series:
        return "no series"
    if not any(math.isfinite(float(s["value"][1])) for s in series):
        return f"only NaN/Inf values: {series}"
    return None


def empty_panels(
    query: Callable[[str], dict[str, Any]], timeout_s: float = 90, dashboards: Collection[str] = EVENTS
) -> str:
    """Every panel query of `dashboards` that returns nothing (tried until `timeout_s`), with why; empty when all
    have data."""
    queries = panel_queries(dashboards)
    failing: dict[PanelQuery, str] = dict.fromkeys(queries, "not asked")
    deadline = time.monotonic() + timeout_s
    while failing and time.monotonic() < deadline:
        for panel_query in list(failing):
            reason = problem(query(panel_query.resolved()))
            if reason is None:
                del failing[panel_query]
            else:
                failing[panel_query] = reason
        if failing:
            time.sleep(3)
    lines = [f"{q.dashboard} / {q.panel}: {q.resolved()}\n    → {why}" for q, why in failing.items()]
    return f"{len(failing)} of {len(queries)} panel queries return nothing:\n" + "\n".join(lines) if failing else ""
