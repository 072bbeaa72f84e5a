"""The comparison for people: tables on the terminal, a self-contained HTML page with plots.

The page embeds its plots as SVG (drawn with matplotlib), so it opens anywhere without a server
and can be attached to a change request.
"""

from __future__ import annotations

import html
from typing import Any

from rich.console import Console
from rich.table import Table

from aios.plotting import pyplot, svg_of


def print_report(report: dict[str, Any], console: Console, changed_shown: int = 20) -> None:
    console.print(
        f"[bold]{report['title']}[/bold]: {report['events']} events"
        + (f" ({report['undecided']} not yet decided in the record, left out)" if report["undecided"] else "")
    )
    table = Table(title="Side by side")
    for column in ("", "what happened", "candidate"):
        table.add_column(column, justify="right" if column else "left")
    for row in _figure_rows(report):
        table.add_row(*map(str, row))
    console.print(table)
    moved = [row for row in report["label_changes"] if row["before"] != row["after"]]
    if moved:
        labels = Table(title="Labels that change (before → candidate)")
        for column in ("before", "candidate", "events"):
            labels.add_column(column)
        for row in moved[:changed_shown]:
            labels.add_row(row["before"], row["after"], str(row["events"]))
        console.print(labels)
    changed = report["changed"]
    console.print(f"{len(changed)} decisions would change")
    if changed:
        rows = Table()
        for column in ("event", "before", "candidate"):
            rows.add_column(column, overflow="fold")
        for row in changed[:changed_shown]:
            rows.add_row(row["event_id"], _decided(row["before"]), _decided(row["after"]))
        console.print(rows)
        if len(changed) > changed_shown:
            console.print(f"… and {len(changed) - changed_shown} more (--json lists them all)")


def _figure_rows(report: dict[str, Any]) -> list[tuple[Any, ...]]:
    """(figure, what happened, candidate) rows: automation, outcomes, review reasons, rules, reviewer agreement."""
    before, after = report["before"], report["after"]
    rows: list[tuple[Any, ...]] = [
        ("automation rate", f"{before['automation_rate']:.1%}", f"{after['automation_rate']:.1%}")
    ]
    rows += [(kind, before[kind], after[kind]) for kind in ("auto", "review", "reject")]
    reasons = _keys(before["review_by_reason"], after["review_by_reason"])
    rows += [
        (f"review: {r}", before["review_by_reason"].get(r, 0), after["review_by_reason"].get(r, 0)) for r in reasons
    ]
    rules = _keys(before["rules"], after["rules"])
    rows += [(f"rule {r}", before["rules"].get(r, 0), after["rules"].get(r, 0)) for r in rules]
    agreement = report["reviewer_agreement"]
    rows += [
        (f"agrees with reviewers ({w})", _share(agreement["before"][w]), _share(agreement["after"][w]))
        for w in ("label", "outcome")
    ]
    return rows


def _keys(*counts: dict[str, int]) -> list[str]:
    return sorted({key for c in counts for key in c}, key=lambda k: (-sum(c.get(k, 0) for c in counts), k))


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _decided(outcome: dict[str, str]) -> str:
    return f"{outcome['outcome']} by {outcome['rule']} ({outcome['label']})"


def html_report(report: dict[str, Any]) -> str:
    """A self-contained page: the figures, plots of outcomes and rules, label changes, changed decisions."""
    before, after = report["before"], report["after"]
    rows = _figure_rows(report)
    moved = [row for row in report["label_changes"] if row["before"] != row["after"]]
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{_e(report['title'])}</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}"
        "td:first-child,th:first-child{text-align:left}.plots{display:flex;flex-wrap:wrap;gap:1em}</style>",
        "</head><body>",
        f"<h1>{_e(report['title'])}</h1>",
        f"<p>{report['events']} events replayed; {report['undecided']} not yet decided in the record (left out). "
        f"{len(report['changed'])} decisions would change.</p>",
        "<div class='plots'>",
        _bars(
            "Outcomes",
            ["auto", "review", "reject"],
            [before[k] for k in ("auto", "review", "reject")],
            [after[k] for k in ("auto", "review", "reject")],
        ),
        _rule_bars(before["rules"], after["rules"]),
        "</div>",
        _table(("", "what happened", "candidate"), rows),
        "<h2>Labels that change</h2>",
        _table(("before", "candidate", "events"), [(r["before"], r["after"], r["events"]) for r in moved])
        if moved
        else "<p>none</p>",
        "<h2>Decisions that would change</h2>",
        _table(
            ("event", "before", "candidate"),
            [(r["event_id"], _decided(r["before"]), _decided(r["after"])) for r in report["changed"]],
        )
        if report["changed"]
        else "<p>none</p>",
        "</body></html>",
    ]
    return "\n".join(parts)


def _e(value: Any) -> str:
    return html.escape(str(value))


def _table(header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _rule_bars(before: dict[str, int], after: dict[str, int]) -> str:
    rules = _keys(before, after)[:12]
    return _bars("Decisions per rule", rules, [before.get(r, 0) for r in rules], [after.get(r, 0) for r in rules])


def _bars(title: str, names: list[str], before: list[int], after: list[int]) -> str:
    """Grouped horizontal bars, before against candidate, as inline SVG."""
    figure, axes = pyplot().subplots(figsize=(5.2, 0.45 * max(3, len(names)) + 1.2))
    positions = list(range(len(names)))
    axes.barh([p + 0.2 for p in positions], before, height=0.4, label="what happened", color="#8c8c8c")
    axes.barh([p - 0.2 for p in positions], after, height=0.4, label="candidate", color="#1f77b4")
    axes.set_yticks(positions, names)
    axes.invert_yaxis()
    axes.set_title(title)
    axes.set_xlabel("events")
    axes.legend(loc="lower right", fontsize="small")
    figure.tight_layout()
    return svg_of(figure)
