"""Rich progress bars for long work that reports through callbacks (training, knowledge-base ingestion).

Library code takes a plain callback and never draws; the command line and the demo draw with these.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from aios.inference.training import TrainingProgress

COUNTING_COLUMNS = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
"""Description, bar, done/total and elapsed time: for work counted in items."""


@contextmanager
def training_bar(
    *, enabled: bool = True, console: Console | None = None, line_every_s: float = 60.0
) -> Iterator[TrainingProgress]:
    """A bar of optimisation steps with the last loss; yields the trainer's `on_step` callback.

    Not on a terminal (a log file, CI) a bar draws nothing until the end: there it prints a line at the
    first step, then at most every `line_every_s`, and at the last, each with the time left.
    """
    console = console or Console(stderr=True)
    if enabled and not console.is_terminal:
        yield training_lines(console.print, line_every_s)
        return
    with Progress(
        *COUNTING_COLUMNS[:3],
        TextColumn("loss {task.fields[loss]:.3f}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not enabled,
    ) as progress:
        task = progress.add_task("training", total=None, loss=float("nan"))

        def on_step(step: int, total: int, loss: float) -> None:
            progress.update(task, completed=step, total=total, loss=loss)

        yield on_step


def training_lines(
    write: Callable[[str], object], every_s: float = 60.0, clock: Callable[[], float] = time.monotonic
) -> TrainingProgress:
    """An `on_step` that writes one plain line at the first step, every `every_s` and at the last step."""
    started = clock()
    last_line: float | None = None

    def on_step(step: int, total: int, loss: float) -> None:
        nonlocal last_line
        now = clock()
        if last_line is not None and now - last_line < every_s and step < total:
            return
        last_line = now
        elapsed = now - started
        left = elapsed / step * (total - step) if step else float("nan")
        write(
            f"training: step {step}/{total} ({step / max(total, 1):.0%}), loss {loss:.3f}, "
            f"{_duration(elapsed)} elapsed, {'done' if step >= total else 'about ' + _duration(left) + ' left'}"
        )

    return on_step


def _duration(seconds: float) -> str:
    if seconds != seconds:  # NaN: nothing to estimate from yet
        return "?"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"
