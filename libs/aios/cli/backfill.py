"""`aios backfill`: re-drive a window of a topic through a service (after a bug fix), effects exactly once."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import typer
from rich.console import Console
from rich.progress import Progress

from aios.backfill.redrive import redrive, wait_for_group
from aios.kafka.timewindow import WindowError, epoch_ms_of, parse_instant
from aios.progress import COUNTING_COLUMNS
from aios.settings import ConnectionSettings


def backfill_command(
    topic: str = typer.Option(..., "--topic", help="The topic whose window the service reads again."),
    from_time: str = typer.Option(..., "--from-time", help="Window start: ISO-8601 time or a duration ago (2h)."),
    to_time: str | None = typer.Option(None, "--to-time", help="Window end; default now."),
    group: str = typer.Option(..., "--group", help="Consumer group of the service that should see the window."),
    wait_s: float = typer.Option(600.0, "--wait", min=0, help="Seconds to wait for GROUP to read the copies."),
    as_json: bool = typer.Option(False, "--json", help="JSON summary, for scripts."),
) -> None:
    """Append TOPIC's records of the window again and wait until GROUP has read them.

    Every consumer of TOPIC sees the copies; ids derived from the event make each service's second pass
    produce the same records again and perform no action twice.
    """
    since = parse_instant(from_time)
    until = parse_instant(to_time) if to_time else datetime.now(UTC)
    if until <= since:
        raise WindowError("--to-time must be after --from-time")
    bootstrap = ConnectionSettings().kafka_bootstrap
    with Progress(*COUNTING_COLUMNS, console=Console(stderr=True), disable=as_json) as progress:
        copying = progress.add_task(f"re-driving {topic}", total=None)
        redriven = redrive(bootstrap, topic, epoch_ms_of(since), epoch_ms_of(until), lambda: progress.advance(copying))
        progress.update(copying, total=redriven.records, completed=redriven.records)
        reading = progress.add_task(f"{group} reading", total=redriven.records)
        caught_up = wait_for_group(
            bootstrap,
            group,
            redriven,
            wait_s,
            lambda behind: progress.update(reading, completed=redriven.records - behind),
        )
    summary = {
        "topic": topic,
        "group": group,
        "from": since.isoformat(),
        "to": until.isoformat(),
        "records": redriven.records,
        "caught_up": caught_up,
    }
    if as_json:
        typer.echo(json.dumps(summary))
    else:
        state = "has read them" if caught_up else f"has not read them all within {wait_s:.0f}s (it goes on)"
        typer.echo(f"{redriven.records} records of {topic} re-driven; group {group} {state}")
    if not caught_up:
        raise typer.Exit(2)
