"""`aios top` (live) and `aios status` (once): per-stage rates, latency, dead letters, lag and the review queue.

Both read Prometheus (`AIOS_PROMETHEUS_URL`), the same series the Grafana dashboards show.
`aios stack status` is another command: the health of the local stack's components.
"""

from __future__ import annotations

import json
import time

import typer
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from aios.observability.overview import Prometheus, Snapshot
from aios.settings import ConnectionSettings

console = Console()

_URL = typer.Option(None, "--prometheus", help="Prometheus base URL (default: AIOS_PROMETHEUS_URL).")


def _number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if unit == "s":
        if value < 1:
            return f"{value * 1000:.0f} ms"
        return f"{value:.1f} s" if value < 120 else f"{value / 60:.0f} min" if value < 7200 else f"{value / 3600:.1f} h"
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def render(snapshot: Snapshot, url: str) -> Group:
    """The snapshot as tables: stages, consumer groups, review queue and firing alerts."""
    stages = Table(title=f"AIOS pipeline ({url})", title_justify="left")
    for header in ("stage", "in/s", "out/s", "http/s", "p99 event→stage", "p99 batch", "dead letters 5m", "lag"):
        stages.add_column(header, justify="left" if header == "stage" else "right")
    for s in snapshot.stages:
        dead = _number(s.dead_letters_5m)
        stages.add_row(
            s.service,
            _number(s.rate_in),
            _number(s.rate_out),
            _number(s.http_rate),
            _number(s.p99_end_to_end_s, "s"),
            _number(s.p99_handler_s, "s"),
            f"[red]{dead}[/]" if s.dead_letters_5m else dead,
            _number(s.consumer_lag),
        )
    groups = Table("consumer group", "lag (broker)", title="Consumer lag", title_justify="left")
    for group, lag in sorted(snapshot.group_lag.items()):
        groups.add_row(group, _number(lag))
    review = Table("tenant", "open", "past SLA", "oldest", title="Review queue", title_justify="left")
    for tenant in sorted(set(snapshot.review_open) | set(snapshot.review_overdue)):
        overdue = snapshot.review_overdue.get(tenant, 0)
        review.add_row(
            tenant,
            _number(snapshot.review_open.get(tenant)),
            f"[red]{overdue:.0f}[/]" if overdue else "0",
            _number(snapshot.review_oldest_s.get(tenant), "s"),
        )
    alerts = Text("no alerts firing", style="green")
    if snapshot.alerts:
        alerts = Text("firing: " + ", ".join(sorted({a["alertname"] for a in snapshot.alerts})), style="bold red")
    parts = [stages if snapshot.stages else Text("no AIOS service reports to this Prometheus", style="yellow")]
    return Group(*parts, groups, review, alerts)


def status(
    prometheus: str | None = _URL,
    as_json: bool = typer.Option(False, "--json", help="One JSON object, for scripts."),
) -> None:
    """The pipeline once: rates, p99 latency, dead letters, lag and review queue per stage (from Prometheus)."""
    url = prometheus or ConnectionSettings().prometheus_url
    snapshot = Prometheus(url).snapshot()
    if as_json:
        typer.echo(json.dumps(snapshot.to_json()))
    else:
        console.print(render(snapshot, url))


def top(
    prometheus: str | None = _URL,
    interval: float = typer.Option(2.0, "--interval", min=0.5, help="Seconds between refreshes."),
) -> None:
    """A live view of the pipeline (Ctrl-C leaves): what `aios status` prints, refreshed."""
    url = prometheus or ConnectionSettings().prometheus_url
    client = Prometheus(url)
    with Live(render(client.snapshot(), url), console=console, refresh_per_second=4, screen=False) as live:
        try:
            while True:
                time.sleep(interval)
                live.update(render(client.snapshot(), url))
        except KeyboardInterrupt:
            pass
