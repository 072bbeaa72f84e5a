"""`aios submit`: send one event, or a JSON Lines file of them, to the ingest API."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from aios.cli.submit_documents import submit_documents
from aios.client import AiosClient, AsyncAiosClient, ClientError, SubmitRejected
from aios.runtime.catalog import service

LINE_FIELDS = ("type", "text", "attributes", "source_ref", "occurred_at", "idempotency_key")
LINES_SHOWN = 20
"""Line numbers listed per reason; a file of a million bad lines should not print a million numbers."""


class LineInvalid(ValueError):
    """A line of the file is not an event object; the reason goes in the summary."""


def parse_line(line: str) -> dict[str, Any]:
    """A JSON Lines line as `submit` keyword arguments; only its shape is checked, the server judges the values."""
    try:
        fields = json.loads(line)
    except json.JSONDecodeError as exc:
        raise LineInvalid(f"invalid JSON ({exc.msg})") from None
    if not isinstance(fields, dict):
        raise LineInvalid("not a JSON object")
    unknown = sorted(set(fields) - set(LINE_FIELDS))
    if unknown:
        raise LineInvalid(f"unknown fields: {', '.join(unknown)}")
    missing = [name for name in ("type", "text") if name not in fields]
    if missing:
        raise LineInvalid(f"missing fields: {', '.join(missing)}")
    if not isinstance(fields.get("attributes", {}), dict):
        raise LineInvalid("attributes is not a JSON object")
    return fields


def parse_attributes(pairs: Iterable[str]) -> dict[str, str]:
    attributes: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{pair!r} is not key=value", param_hint="--attribute")
        attributes[key] = value
    return attributes


@dataclass
class Tally:
    """Outcomes of a file, the refusals grouped by reason with their line numbers."""

    accepted: int = 0
    rejected: defaultdict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    failed: defaultdict[str, list[int]] = field(default_factory=lambda: defaultdict(list))

    def lines(self) -> list[str]:
        """The summary printed after a file; reasons in order of their first line, whatever order lines finished in."""
        summary = [f"accepted: {self.accepted}"]
        for outcome, groups in (("rejected", self.rejected), ("failed", self.failed)):
            summary.append(f"{outcome}: {sum(map(len, groups.values()))}")
            for reason, numbers in sorted(groups.items(), key=lambda group: min(group[1])):
                summary.append(f"  {reason}: {line_list(numbers)}")
        return summary

    @property
    def ok(self) -> bool:
        return not self.rejected and not self.failed


def line_list(numbers: list[int]) -> str:
    shown = ", ".join(map(str, sorted(numbers)[:LINES_SHOWN]))
    more = f" and {len(numbers) - LINES_SHOWN} more" if len(numbers) > LINES_SHOWN else ""
    return f"line{'s' if len(numbers) > 1 else ''} {shown}{more}"


async def submit_lines(
    client: AsyncAiosClient,
    lines: Iterable[str],
    concurrency: int,
    attributes: Mapping[str, str],
    advance: Callable[[], None],
) -> Tally:
    """Submit every non-blank line with at most `concurrency` requests in flight; never raises for one line."""
    tally = Tally()
    numbered = enumerate(lines, start=1)

    async def submit_one(number: int, line: str) -> None:
        try:
            fields = parse_line(line)
        except LineInvalid as exc:
            tally.rejected[str(exc)].append(number)
            return
        if attributes:
            fields["attributes"] = {**attributes, **fields.get("attributes", {})}
        try:
            await client.submit(**fields)
        except SubmitRejected as exc:
            tally.rejected[str(exc)].append(number)
        except ClientError as exc:
            tally.failed[str(exc)].append(number)
        else:
            tally.accepted += 1

    async def worker() -> None:
        # Workers share one iterator, so the file is read as fast as it is sent, never all at once.
        for number, line in numbered:
            if line.strip():
                await submit_one(number, line)
            advance()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return tally


def submit_file(file: Path, url: str, api_key: str, concurrency: int, attributes: Mapping[str, str]) -> Tally:
    with file.open(encoding="utf-8") as lines:
        total = sum(1 for _ in lines)
    columns = (TextColumn("submitting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True)) as progress, file.open(encoding="utf-8") as lines:
        task = progress.add_task("submit", total=total)

        async def run() -> Tally:
            async with AsyncAiosClient(url, api_key) as client:
                return await submit_lines(client, lines, concurrency, attributes, lambda: progress.advance(task))

        return asyncio.run(run())


def submit(
    type_: str | None = typer.Option(
        None, "--type", help="Event type, e.g. support.ticket; with --document: invoice, claim or auto (default)."
    ),
    text: str | None = typer.Option(None, "--text", help="The event's text."),
    file: Path | None = typer.Option(
        None,
        "--file",
        exists=True,
        dir_okay=False,
        readable=True,
        help="JSON Lines: one object per line with type, text and optional attributes, source_ref, "
        "occurred_at, idempotency_key.",
    ),
    url: str = typer.Option(
        service("ingest").local_url, "--url", envvar="AIOS_INGEST_URL", help="Base URL of the ingest API."
    ),
    api_key: str = typer.Option(..., "--api-key", envvar="AIOS_API_KEY", help="The tenant's API key."),
    attribute: list[str] = typer.Option(
        [], "--attribute", help="key=value, repeatable; with --file added to every line (a line's own value wins)."
    ),
    concurrency: int = typer.Option(8, "--concurrency", min=1, help="Requests in flight with --file or --document."),
    wait: int | None = typer.Option(
        None,
        "--wait",
        min=0,
        help="Seconds to wait for the event's outcome (Prefer: wait); prints the answer as JSON, its outcome null"
        " if none came in time.",
    ),
    document: bool = typer.Option(
        False, "--document", help="Upload the FILEs as documents (PDF, PNG, JPEG, TIFF); prints a summary."
    ),
    files: list[Path] = typer.Argument(None, metavar="[FILE]...", exists=True, dir_okay=False, readable=True),
) -> None:
    """Submit one event (--type/--text; prints its id, with --wait its outcome), every line of --file, or documents
    (--document FILE...)."""
    attributes = parse_attributes(attribute)
    if document:
        if wait is not None:
            raise typer.BadParameter("--wait is for one event (--type/--text)", param_hint="--wait")
        if text is not None or file is not None:
            raise typer.BadParameter("give documents as FILE... without --text or --file", param_hint="--document")
        _upload(files, url, api_key, type_ or "auto", attributes, concurrency)
        return
    if files:
        raise typer.BadParameter("FILE arguments are documents: add --document", param_hint="FILE")
    if file is not None:
        if type_ is not None or text is not None:
            raise typer.BadParameter("give --file or --type/--text, not both", param_hint="--file")
        if wait is not None:
            raise typer.BadParameter("--wait is for one event (--type/--text)", param_hint="--wait")
        tally = submit_file(file, url, api_key, concurrency, attributes)
        for line in tally.lines():
            typer.echo(line)
        if not tally.ok:
            raise typer.Exit(1)
        return
    if type_ is None or text is None:
        raise typer.BadParameter("give --type and --text, or --file", param_hint="--type/--text")
    _submit_one(url, api_key, type_, text, attributes, wait)


def _submit_one(url: str, api_key: str, type_: str, text: str, attributes: dict[str, str], wait: int | None) -> None:
    with AiosClient(url, api_key) as client:
        try:
            if wait is None:
                typer.echo(client.submit(type_, text, attributes))
            else:
                answer = client.submit(type_, text, attributes, wait=wait)
                typer.echo(json.dumps(dataclasses.asdict(answer), indent=2))
        except ClientError as exc:
            typer.secho(str(exc), fg=typer.colors.RED, err=True)
            raise typer.Exit(1) from None


def _upload(
    files: list[Path] | None, url: str, api_key: str, declared: str, attributes: dict[str, str], concurrency: int
) -> None:
    if not files:
        raise typer.BadParameter("name the documents to upload", param_hint="FILE")
    if declared not in ("invoice", "claim", "auto"):
        raise typer.BadParameter("with --document, --type is invoice, claim or auto", param_hint="--type")
    documents = submit_documents(files, url, api_key, declared, attributes, concurrency)
    for line in documents.lines():
        typer.echo(line)
    if not documents.ok:
        raise typer.Exit(1)
