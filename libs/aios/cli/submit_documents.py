"""`aios submit --document FILE... --type T`: upload documents with a progress bar, then a summary."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from aios.client import AsyncAiosClient, ClientError, SubmitRejected

FILES_SHOWN = 10
"""File names listed per reason."""


@dataclass
class DocumentTally:
    """Each accepted file's event id; the refused ones grouped by reason."""

    accepted: dict[str, str] = field(default_factory=dict)
    rejected: defaultdict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    failed: defaultdict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def lines(self) -> list[str]:
        summary = [f"{name}\t{event_id}" for name, event_id in self.accepted.items()]
        summary.append(f"accepted: {len(self.accepted)}")
        for outcome, groups in (("rejected", self.rejected), ("failed", self.failed)):
            summary.append(f"{outcome}: {sum(map(len, groups.values()))}")
            for reason, names in groups.items():
                more = f" and {len(names) - FILES_SHOWN} more" if len(names) > FILES_SHOWN else ""
                summary.append(f"  {reason}: {', '.join(names[:FILES_SHOWN])}{more}")
        return summary

    @property
    def ok(self) -> bool:
        return not self.rejected and not self.failed


async def upload(
    client: AsyncAiosClient,
    files: Sequence[Path],
    type_: str,
    attributes: Mapping[str, str],
    concurrency: int,
    advance: Callable[[], None],
) -> DocumentTally:
    """Upload every file with at most `concurrency` in flight; never raises for one file."""
    tally = DocumentTally()
    queue = iter(files)

    async def worker() -> None:
        for path in queue:
            try:
                tally.accepted[str(path)] = await client.submit_document(path, type_, attributes)
            except SubmitRejected as exc:
                tally.rejected[str(exc)].append(str(path))
            except (ClientError, OSError) as exc:
                tally.failed[str(exc)].append(str(path))
            advance()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    tally.accepted = {str(path): tally.accepted[str(path)] for path in files if str(path) in tally.accepted}
    return tally


def submit_documents(
    files: Sequence[Path], url: str, api_key: str, type_: str, attributes: Mapping[str, str], concurrency: int
) -> DocumentTally:
    columns = (TextColumn("uploading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True)) as progress:
        task = progress.add_task("upload", total=len(files))

        async def run() -> DocumentTally:
            async with AsyncAiosClient(url, api_key, timeout_s=120.0) as client:
                return await upload(client, files, type_, attributes, concurrency, lambda: progress.advance(task))

        return asyncio.run(run())
