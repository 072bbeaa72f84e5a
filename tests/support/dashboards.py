"""The PromQL of every committed Grafana panel, as Grafana would send it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from aios.observability.dashboards import dashboards_dir

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


def panel_queries() -> list[PanelQuery]:
    queries = []
    for path in sorted(dashboards_dir().glob("*.json")):
        dashboard = json.loads(path.read_text())
        for panel in dashboard["panels"]:
            for target in panel["targets"]:
                queries.append(PanelQuery(dashboard["title"], panel["title"], target["expr"]))
    return queries
