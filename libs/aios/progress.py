"""Rich progress bars for long work that reports through callbacks (training, knowledge-base ingestion).

Library code takes a plain callback and never draws; the command line and the demo draw with these.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from aios.inference.training import TrainingProgress

COUNTING_COLUMNS = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
"""Description, bar, done/total and elapsed time: for work counted in items."""


@contextmanager
def training_bar(*, enabled: bool = True, console: Console | None = None) -> Iterator[TrainingProgress]:
    """A bar of optimisation steps with the last loss; yields the trainer's `on_step` callback."""
    with Progress(
        *COUNTING_COLUMNS[:3],
        TextColumn("loss {task.fields[loss]:.3f}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console or Console(stderr=True),
        disable=not enabled,
    ) as progress:
        task = progress.add_task("training", total=None, loss=float("nan"))

        def on_step(step: int, total: int, loss: float) -> None:
            progress.update(task, completed=step, total=total, loss=loss)

        yield on_step
