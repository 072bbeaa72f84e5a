"""Training progress in a plain log: a line at the start, at most one a minute, and one at the end."""

from __future__ import annotations

import io

from rich.console import Console

from aios.progress import training_bar, training_lines


def test_lines_come_at_the_first_step_every_minute_and_the_last_with_the_time_left() -> None:
    now = [0.0]
    written: list[str] = []
    on_step = training_lines(written.append, every_s=60, clock=lambda: now[0])
    for step in range(1, 101):
        now[0] = step * 2.0  # two seconds a step: 200 s in all
        on_step(step, 100, 1.0 / step)
    assert written == [
        "training: step 1/100 (1%), loss 1.000, 2 s elapsed, about 3 min 18 s left",
        "training: step 31/100 (31%), loss 0.032, 1 min 02 s elapsed, about 2 min 18 s left",
        "training: step 61/100 (61%), loss 0.016, 2 min 02 s elapsed, about 1 min 18 s left",
        "training: step 91/100 (91%), loss 0.011, 3 min 02 s elapsed, about 18 s left",
        "training: step 100/100 (100%), loss 0.010, 3 min 20 s elapsed, done",
    ]


def test_not_on_a_terminal_the_bar_writes_lines() -> None:
    out = io.StringIO()
    with training_bar(console=Console(file=out, force_terminal=False, width=200)) as on_step:
        on_step(1, 2, 0.5)
        on_step(2, 2, 0.25)
    assert out.getvalue().splitlines() == [
        "training: step 1/2 (50%), loss 0.500, 0 s elapsed, about 0 s left",
        "training: step 2/2 (100%), loss 0.250, 0 s elapsed, done",
    ]
